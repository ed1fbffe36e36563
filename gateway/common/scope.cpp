#include "common/scope.hpp"

namespace giosg {

std::optional<ScopeSet> parse_scope(std::string_view name) noexcept {
    if (name == "settings") return kScopeSettings;
    if (name == "users") return kScopeUsers;
    if (name == "reports") return kScopeReports;
    return std::nullopt;
}

}  // namespace giosg
