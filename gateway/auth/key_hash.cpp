#include "auth/key_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>

namespace giosg {

KeyDigest sha256(std::string_view data) noexcept {
    KeyDigest digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != digest.size()) {
        // Only an allocation failure inside OpenSSL gets here. Returning some fixed digest could
        // make two different keys compare equal, so stop instead.
        std::abort();
    }
    return digest;
}

std::string format_key_digest(const KeyDigest& digest) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text = "sha256:";
    text.reserve(text.size() + digest.size() * 2);
    for (const std::uint8_t byte : digest) {
        text += kHex[byte >> 4];
        text += kHex[byte & 0x0F];
    }
    return text;
}

bool digest_equal(const KeyDigest& a, const KeyDigest& b) noexcept {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace giosg
