#include "audit/signing.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>

#include "common/hex.hpp"
#include "common/sha256.hpp"

namespace giosg::audit {

namespace {
std::shared_ptr<void> own(EVP_PKEY* key) {
    return {key, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }};
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read key file " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string key_id_of(EVP_PKEY* key) {
    std::array<unsigned char, 32> raw{};
    std::size_t size = raw.size();
    if (EVP_PKEY_get_raw_public_key(key, raw.data(), &size) != 1 || size != raw.size())
        throw std::runtime_error("cannot read the Ed25519 public key");
    const auto digest = sha256({reinterpret_cast<const char*>(raw.data()), raw.size()});
    return hex_encode(std::span(digest).first(8));
}

EVP_PKEY* read_pem(const std::string& text, bool private_key) {
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    if (bio == nullptr) return nullptr;
    EVP_PKEY* key = private_key ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                                : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    // A failed attempt (VerifyKey tries the public form first) must not leave errors queued for
    // the next OpenSSL call on this thread to trip over.
    if (key == nullptr) ERR_clear_error();
    return key;
}

std::string write_pem(EVP_PKEY* key, bool private_key) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) throw std::runtime_error("out of memory");
    const int ok = private_key ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                               : PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string out = ok == 1 && size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
    BIO_free(bio);
    if (out.empty()) throw std::runtime_error("cannot encode the key");
    return out;
}
}  // namespace

std::string checkpoint_message(std::uint64_t seq, std::string_view prev, std::string_view ts) {
    std::string message = "giosg-audit-checkpoint:v1:";
    message.append(std::to_string(seq)).push_back(':');
    message.append(prev).push_back(':');
    message.append(ts);
    return message;
}

SigningKey SigningKey::load(const std::filesystem::path& file) {
    const auto text = read_file(file);
    EVP_PKEY* key = read_pem(text, true);
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        throw std::runtime_error("key file " + file.string() + " is not a PEM Ed25519 private key");
    }
    SigningKey out;
    out.pkey_ = own(key);
    out.key_id_ = key_id_of(key);
    return out;
}

std::string SigningKey::sign_hex(std::string_view message) const {
    auto* key = static_cast<EVP_PKEY*>(pkey_.get());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char signature[64];
    std::size_t size = sizeof signature;
    const bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                    EVP_DigestSign(ctx, signature, &size, reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || size != sizeof signature) throw std::runtime_error("Ed25519 signing failed");
    return hex_encode(signature);
}

VerifyKey VerifyKey::load(const std::filesystem::path& file) {
    const auto text = read_file(file);
    EVP_PKEY* key = read_pem(text, false);
    if (key == nullptr) key = read_pem(text, true);
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        throw std::runtime_error("key file " + file.string() + " is not a PEM Ed25519 public key");
    }
    VerifyKey out;
    out.pkey_ = own(key);
    out.key_id_ = key_id_of(key);
    return out;
}

bool VerifyKey::verify_hex(std::string_view message, std::string_view signature_hex) const {
    unsigned char signature[64];
    if (!hex_decode(signature_hex, signature)) return false;
    auto* key = static_cast<EVP_PKEY*>(pkey_.get());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, signature, sizeof signature,
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) ERR_clear_error();  // a bad signature is an answer, not an error to keep queued
    return ok;
}

KeyPairPem generate_key_pair() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (key == nullptr) throw std::runtime_error("Ed25519 key generation failed");
    auto owned = own(key);
    return {write_pem(key, true), write_pem(key, false)};
}

}  // namespace giosg::audit
