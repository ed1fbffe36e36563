#pragma once
// Ed25519 keys for signed audit checkpoints (OpenSSL). A checkpoint record signs
// checkpoint_message(): its own seq, its prev (the hash of the record before it, which by the
// chain covers every earlier record) and its ts. Key files are PEM: PKCS#8 private key
// ("openssl genpkey -algorithm ed25519"), SubjectPublicKeyInfo public key.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace giosg::audit {

/// "giosg-audit-checkpoint:v1:<seq>:<prev>:<ts>"
std::string checkpoint_message(std::uint64_t seq, std::string_view prev, std::string_view ts);

class SigningKey {
public:
    /// Reads a PEM Ed25519 private key. Throws std::runtime_error naming the file (never its
    /// content) when it is unreadable or not an Ed25519 private key.
    static SigningKey load(const std::filesystem::path& file);
    /// 128 lower-case hex characters.
    [[nodiscard]] std::string sign_hex(std::string_view message) const;
    /// First 16 hex characters of SHA-256 over the raw 32-byte public key.
    [[nodiscard]] const std::string& key_id() const noexcept { return key_id_; }

private:
    std::shared_ptr<void> pkey_;  // EVP_PKEY
    std::string key_id_;
};

class VerifyKey {
public:
    /// Reads a PEM Ed25519 public key (a private key file is accepted too). Throws
    /// std::runtime_error naming the file.
    static VerifyKey load(const std::filesystem::path& file);
    [[nodiscard]] bool verify_hex(std::string_view message, std::string_view signature_hex) const;
    [[nodiscard]] const std::string& key_id() const noexcept { return key_id_; }

private:
    std::shared_ptr<void> pkey_;
    std::string key_id_;
};

struct KeyPairPem {
    std::string private_pem;
    std::string public_pem;
};
/// A fresh Ed25519 key pair.
KeyPairPem generate_key_pair();

}  // namespace giosg::audit
