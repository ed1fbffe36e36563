#pragma once
// Test-only JWT issuer: keys generated at test time with OpenSSL (EVP_PKEY_Q_keygen), their
// public halves as JWKs, and tokens signed with EVP_DigestSign. Shared by the unit and the
// integration tests.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64url.hpp"

namespace giosg::testing {

inline std::string b64url(std::string_view bytes) {
    std::string out;
    base64url_append({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, out);
    return out;
}

class TestSigner {
public:
    enum class Kind { rsa, p256, ed25519 };

    explicit TestSigner(Kind kind, std::string kid, std::size_t rsa_bits = 2048) : kind_(kind), kid_(std::move(kid)) {
        EVP_PKEY* key = kind == Kind::rsa    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits))
                        : kind == Kind::p256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                             : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        if (key == nullptr) throw std::runtime_error("key generation failed");
        key_.reset(key, EVP_PKEY_free);
    }

    [[nodiscard]] const std::string& kid() const { return kid_; }
    [[nodiscard]] std::string alg() const {
        return kind_ == Kind::rsa ? "RS256" : kind_ == Kind::p256 ? "ES256" : "EdDSA";
    }
    [[nodiscard]] EVP_PKEY* key() const { return key_.get(); }

    /// The public key as a JWK (JSON object text).
    [[nodiscard]] std::string jwk() const {
        if (kind_ == Kind::rsa) {
            return R"({"kty":"RSA","kid":")" + kid_ + R"(","use":"sig","alg":"RS256","n":")" +
                   b64url(bn_param(OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" + b64url(bn_param(OSSL_PKEY_PARAM_RSA_E)) +
                   R"("})";
        }
        if (kind_ == Kind::p256) {
            return R"({"kty":"EC","kid":")" + kid_ + R"(","crv":"P-256","x":")" +
                   b64url(padded(bn_param(OSSL_PKEY_PARAM_EC_PUB_X), 32)) + R"(","y":")" +
                   b64url(padded(bn_param(OSSL_PKEY_PARAM_EC_PUB_Y), 32)) + R"("})";
        }
        std::string raw(32, '\0');
        size_t length = raw.size();
        EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &length);
        return R"({"kty":"OKP","kid":")" + kid_ + R"(","crv":"Ed25519","x":")" + b64url(raw) + R"("})";
    }

    /// header.payload.signature, signed with this key; `header_json` empty: the usual header.
    [[nodiscard]] std::string token(const std::string& payload_json, std::string header_json = {}) const {
        if (header_json.empty()) header_json = R"({"alg":")" + alg() + R"(","typ":"JWT","kid":")" + kid_ + R"("})";
        const std::string input = b64url(header_json) + "." + b64url(payload_json);
        return input + "." + b64url(sign(input));
    }

    /// The raw signature in JOSE form (r || s for ES256).
    [[nodiscard]] std::string sign(std::string_view input) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        const char* digest = kind_ == Kind::ed25519 ? nullptr : "SHA256";
        if (EVP_DigestSignInit_ex(md.get(), nullptr, digest, nullptr, nullptr, key_.get(), nullptr) != 1)
            throw std::runtime_error("sign init failed");
        size_t length = 0;
        const auto* data = reinterpret_cast<const unsigned char*>(input.data());
        if (EVP_DigestSign(md.get(), nullptr, &length, data, input.size()) != 1) throw std::runtime_error("sign failed");
        std::string sig(length, '\0');
        if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &length, data, input.size()) != 1)
            throw std::runtime_error("sign failed");
        sig.resize(length);
        if (kind_ != Kind::p256) return sig;
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string jose = padded(bn_bytes(ECDSA_SIG_get0_r(es)), 32) + padded(bn_bytes(ECDSA_SIG_get0_s(es)), 32);
        ECDSA_SIG_free(es);
        return jose;
    }

    /// The public key's SubjectPublicKeyInfo in PEM (what an algorithm-confusion attacker knows).
    [[nodiscard]] std::string public_pem() const {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key_.get());
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string pem(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return pem;
    }

private:
    static std::string bn_bytes(const BIGNUM* bn) {
        std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
        BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
        return out;
    }
    static std::string padded(std::string bytes, std::size_t size) {
        if (bytes.size() < size) bytes.insert(0, size - bytes.size(), '\0');
        return bytes;
    }
    [[nodiscard]] std::string bn_param(const char* name) const {
        BIGNUM* bn = nullptr;
        if (EVP_PKEY_get_bn_param(key_.get(), name, &bn) != 1) throw std::runtime_error("no key parameter");
        std::string out = bn_bytes(bn);
        BN_free(bn);
        return out;
    }

    Kind kind_;
    std::string kid_;
    std::shared_ptr<EVP_PKEY> key_;
};

/// {"keys": [...]} of the signers' public keys.
inline std::string jwks_of(const std::vector<const TestSigner*>& signers) {
    std::string out = R"({"keys":[)";
    for (std::size_t i = 0; i < signers.size(); ++i) out += (i ? "," : "") + signers[i]->jwk();
    return out + "]}";
}

/// An HS256 token whose HMAC key is `secret` (HMAC through EVP_MAC-free EVP_PKEY "HMAC").
inline std::string hs256_token(const std::string& header_json, const std::string& payload_json,
                               const std::string& secret) {
    const std::string input = b64url(header_json) + "." + b64url(payload_json);
    EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, nullptr,
                                                 reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSignUpdate(md.get(), input.data(), input.size());
    unsigned char mac[64];
    size_t length = sizeof mac;
    EVP_DigestSignFinal(md.get(), mac, &length);
    EVP_PKEY_free(key);
    return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), length));
}

}  // namespace giosg::testing
