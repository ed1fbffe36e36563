#pragma once
// Lower-case hex for digests, signatures and escapes: one table and one validating decoder
// instead of a hand-written loop in every file that prints or reads a digest.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace giosg {

/// The lower-case digit for a value 0..15.
constexpr char hex_digit(unsigned nibble) noexcept { return "0123456789abcdef"[nibble & 0xFu]; }

/// Value of a hex digit of either case, or -1.
constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Writes 2 * bytes.size() lower-case digits to `out` (for fixed-size buffers).
constexpr void hex_encode_to(std::span<const std::uint8_t> bytes, char* out) noexcept {
    for (const std::uint8_t byte : bytes) {
        *out++ = hex_digit(byte >> 4);
        *out++ = hex_digit(byte);
    }
}

/// Appends the lower-case hex of `bytes` to `out`.
inline void hex_append(std::string& out, std::span<const std::uint8_t> bytes) {
    const std::size_t start = out.size();
    out.resize(start + bytes.size() * 2);
    hex_encode_to(bytes, out.data() + start);
}

/// The lower-case hex of `bytes`.
inline std::string hex_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    hex_append(out, bytes);
    return out;
}

/// Decodes exactly 2 * out.size() hex digits of either case into `out`. False (and `out` in an
/// unspecified state) when `text` has another length or a character that is not a hex digit.
constexpr bool hex_decode(std::string_view text, std::span<std::uint8_t> out) noexcept {
    if (text.size() != out.size() * 2) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int high = hex_digit_value(text[2 * i]);
        const int low = hex_digit_value(text[2 * i + 1]);
        if (high < 0 || low < 0) return false;
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return true;
}

/// True when every character is 0-9 or a-f (the only form the audit chain writes).
constexpr bool is_lower_hex(std::string_view text) noexcept {
    for (const char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace giosg
