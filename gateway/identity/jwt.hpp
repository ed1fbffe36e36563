#pragma once
// JWT bearer tokens (docs/reference.md §7): RS256, ES256 and EdDSA (Ed25519) signatures verified with
// OpenSSL's EVP API against the keys of a JWKS file; `none` and HS* are refused whatever the key.
// Pure (no Asio): a token and a clock value in, a subject or the reason it was refused out.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

struct evp_pkey_st;

namespace giosg {

enum class JwtAlg : std::uint8_t { rs256, es256, eddsa };

/// One usable key of a JWKS: its kid, the algorithm it verifies and the public key.
struct JwtKey {
    std::string kid;
    JwtAlg alg = JwtAlg::rs256;
    std::shared_ptr<evp_pkey_st> key;
};

/// The signature keys of a JWKS document ({"keys": [...]}). Keys of other types or algorithms
/// (RS384, P-384, "use": "enc", no kid) are skipped; a malformed key of a supported type, or a
/// kid used twice for one algorithm, is an error.
struct Jwks {
    std::vector<JwtKey> keys;

    static std::optional<Jwks> parse(std::string_view json, std::string& error);
    static std::optional<Jwks> load(const std::filesystem::path& file, std::string& error);
    [[nodiscard]] const JwtKey* find(std::string_view kid, JwtAlg alg) const noexcept;
};

/// Whether a Bearer value is a JWT by the contract's rule: three base64url parts, the first of
/// which decodes to a JSON object with "alg". Everything else is a key.
bool looks_like_jwt(std::string_view token) noexcept;

struct JwtVerdict {
    bool ok = false;
    std::string_view error;   // why not (static text, for the audit record's auth_error)
    std::string subject;      // "sub", when ok
    std::chrono::system_clock::time_point valid_until{};  // exp + leeway, when ok
};

class JwtVerifier {
public:
    JwtVerifier(JwtConfig config, Jwks jwks) : config_(std::move(config)), jwks_(std::move(jwks)) {}

    /// Verifies the signature (alg and kid first), then iss, aud, exp (required) and nbf with
    /// the configured leeway at `now`. Never throws.
    [[nodiscard]] JwtVerdict verify(std::string_view token, std::chrono::system_clock::time_point now) const noexcept;

    [[nodiscard]] const JwtConfig& config() const noexcept { return config_; }
    [[nodiscard]] const Jwks& jwks() const noexcept { return jwks_; }

private:
    JwtConfig config_;
    Jwks jwks_;
};

}  // namespace giosg
