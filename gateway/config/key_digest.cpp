// parse_key_digest(): the form of a client's "key_sha256" ("sha256:" and 64 hex digits).
#include "config/config.hpp"

#include "common/hex.hpp"

namespace giosg {

std::optional<KeyDigest> parse_key_digest(std::string_view text) noexcept {
    constexpr std::string_view kPrefix = "sha256:";
    if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
    KeyDigest digest{};
    if (!hex_decode(text, digest)) return std::nullopt;
    return digest;
}

}  // namespace giosg
