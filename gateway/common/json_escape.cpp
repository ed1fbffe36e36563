#include "common/json_escape.hpp"

#include <cstdint>

#include "common/hex.hpp"

namespace giosg {

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (b >= 0xC2 && b <= 0xDF) { n = 2; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { n = 3; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (i + n > s.size()) return 0;
    std::uint32_t cp = b & (0xFFu >> (n + 1));
    for (std::size_t k = 1; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}
}  // namespace

void append_json_escaped(std::string_view text, std::string& out) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out.append("\\n");
        } else if (c == '\r') {
            out.append("\\r");
        } else if (c == '\t') {
            out.append("\\t");
        } else if (c < 0x20 || c == 0x7F) {
            out.append("\\u00");
            out.push_back(hex_digit(c >> 4));
            out.push_back(hex_digit(c));
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (const auto n = utf8_sequence(text, i); n != 0) {
            out.append(text.substr(i, n));
            i += n - 1;
        } else {
            out.append("\\u00");
            out.push_back(hex_digit(c >> 4));
            out.push_back(hex_digit(c));
        }
    }
}

}  // namespace giosg
