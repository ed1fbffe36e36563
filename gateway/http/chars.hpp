#pragma once
// Character classes of RFC 9110 §5.6 shared by the head parser, the chunked decoder and the
// target rules. Internal to giosg_http.
#include <array>
#include <string_view>

namespace giosg::http::chars {

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() noexcept {
    std::array<bool, 256> table{};
    for (unsigned char c = '0'; c <= '9'; ++c) table[c] = true;
    for (unsigned char c = 'a'; c <= 'z'; ++c) table[c] = true;
    for (unsigned char c = 'A'; c <= 'Z'; ++c) table[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
    return table;
}
inline constexpr std::array<bool, 256> kTchar = make_tchar_table();
}  // namespace detail

/// tchar of RFC 9110 §5.6.2: what a method, a field name or a connection option is made of.
constexpr bool is_tchar(char c) noexcept { return detail::kTchar[static_cast<unsigned char>(c)]; }

/// SP or HTAB: optional whitespace (OWS/BWS).
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// A byte allowed inside a field value or reason phrase: HTAB, SP, VCHAR or obs-text
/// (RFC 9110 §5.5). Everything else is a control character (CR, LF and NUL included).
constexpr bool is_field_byte(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace giosg::http::chars
