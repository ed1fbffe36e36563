#pragma once
// giosg permission scopes as a bit set. Clients may only hold the three documented scopes;
// a catalogue may name others (a newer giosg), which map to kUnknownScope: no client holds it,
// so a method that requires only unknown scopes is refused rather than opened up.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace giosg {

using ScopeSet = std::uint32_t;

inline constexpr ScopeSet kScopeSettings = 1u << 0;
inline constexpr ScopeSet kScopeUsers = 1u << 1;
inline constexpr ScopeSet kScopeReports = 1u << 2;
inline constexpr ScopeSet kUnknownScope = 1u << 31;

/// "settings" | "users" | "reports" -> bit; anything else -> nullopt (case-sensitive).
std::optional<ScopeSet> parse_scope(std::string_view name) noexcept;

/// Any-of semantics: an empty requirement is met by every authenticated client.
inline bool scopes_satisfied(ScopeSet required, ScopeSet granted) noexcept {
    return required == 0 || (required & granted) != 0;
}

}  // namespace giosg
