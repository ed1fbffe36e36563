#pragma once
// Appending numbers and system error text to strings: one copy for the HTTP writers, the audit
// record, the writer's own records and the config loader. No locale, no allocation beyond `out`.
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

namespace giosg {

/// Appends `v` in decimal.
inline void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, result.ptr);
}

/// Appends `v` in lower-case hex without leading zeros (a chunk-size line).
inline void append_hex_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto result = std::to_chars(buf, buf + sizeof buf, v, 16);
    out.append(buf, result.ptr);
}

/// strerror() for an errno value, without its thread-safety caveats.
inline std::string errno_text(int error_number) { return std::generic_category().message(error_number); }

}  // namespace giosg
