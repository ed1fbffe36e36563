#include "common/sha256.hpp"

// See sha256_of() for why the low-level interface.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "common/hex.hpp"

namespace giosg {

KeyDigest sha256_of(std::initializer_list<std::string_view> parts) noexcept {
    // OpenSSL's SHA256_* functions are deprecated in 3.0 in favour of EVP, but EVP in 3.0
    // allocates a provider context at every EVP_DigestInit and, given EVP_sha256(), fetches the
    // algorithm again under a lock. The request path hashes every presented key and the audit
    // writer every record, so this uses the same assembly through the allocation- and lock-free
    // interface.
    SHA256_CTX ctx;
    KeyDigest digest{};
    bool ok = SHA256_Init(&ctx) == 1;
    for (const auto part : parts) ok = ok && SHA256_Update(&ctx, part.data(), part.size()) == 1;
    // These cannot fail for SHA-256 in memory; a wrong digest could make two different keys
    // compare equal or break the audit chain, so stop rather than go on.
    if (!(ok && SHA256_Final(digest.data(), &ctx) == 1)) std::abort();
    return digest;
}

KeyDigest sha256(std::string_view data) noexcept { return sha256_of({data}); }

std::string format_key_digest(const KeyDigest& digest) {
    std::string text = "sha256:";
    hex_append(text, digest);
    return text;
}

bool digest_equal(const KeyDigest& a, const KeyDigest& b) noexcept {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace giosg
