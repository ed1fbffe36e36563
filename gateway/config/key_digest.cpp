// parse_key_digest(): the form of a client's "key_sha256" ("sha256:" and 64 hex digits).
#include "config/config.hpp"

#include "common/ascii.hpp"

namespace giosg {
namespace {

int hex_value(char c) noexcept {
    if (is_ascii_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<KeyDigest> parse_key_digest(std::string_view text) noexcept {
    constexpr std::string_view kPrefix = "sha256:";
    if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
    KeyDigest digest{};
    if (text.size() != digest.size() * 2) return std::nullopt;
    for (std::size_t i = 0; i < digest.size(); ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        digest[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return digest;
}

}  // namespace giosg
