#include "identity/jwt.hpp"

#include <boost/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "common/base64url.hpp"

namespace giosg {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxJwksBytes = 1024 * 1024;
constexpr int kMinRsaBits = 2048;

struct BnFree { void operator()(BIGNUM* p) const noexcept { BN_free(p); } };
struct BldFree { void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); } };
struct CtxFree { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); } };
struct SigFree { void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); } };
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) { return {key, [](EVP_PKEY* p) { EVP_PKEY_free(p); }}; }

const json::string* string_member(const json::object& o, std::string_view key) {
    const auto it = o.find(key);
    return it == o.end() ? nullptr : it->value().if_string();
}

std::string_view view(const json::string& s) { return {s.data(), s.size()}; }

std::optional<std::string> decoded_member(const json::object& o, std::string_view key) {
    const json::string* s = string_member(o, key);
    if (s == nullptr) return std::nullopt;
    return base64url_decode(view(*s));
}

Bn bignum(const std::string& bytes) {
    return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

/// A public key from OSSL_PARAMs, checked by OpenSSL (EVP_PKEY_public_check).
std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* bld) {
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
    if (!params) return nullptr;
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    auto key = own(raw);
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

std::shared_ptr<EVP_PKEY> rsa_key(const json::object& jwk, std::string& error) {
    const auto n = decoded_member(jwk, "n");
    const auto e = decoded_member(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) {
        error = "RSA key needs base64url \"n\" and \"e\"";
        return nullptr;
    }
    Bn bn_n = bignum(*n), bn_e = bignum(*e);
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        error = "RSA key could not be built";
        return nullptr;
    }
    auto key = from_params("RSA", bld.get());
    if (!key) {
        error = "RSA key is invalid";
    } else if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
        error = "RSA key is shorter than 2048 bits";
        key.reset();
    }
    return key;
}

std::shared_ptr<EVP_PKEY> p256_key(const json::object& jwk, std::string& error) {
    const auto x = decoded_member(jwk, "x");
    const auto y = decoded_member(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) {
        error = "P-256 key needs 32-byte base64url \"x\" and \"y\"";
        return nullptr;
    }
    std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        error = "P-256 key could not be built";
        return nullptr;
    }
    auto key = from_params("EC", bld.get());
    if (!key) error = "P-256 key is not a point on the curve";
    return key;
}

std::shared_ptr<EVP_PKEY> ed25519_key(const json::object& jwk, std::string& error) {
    const auto x = decoded_member(jwk, "x");
    if (!x || x->size() != 32) {
        error = "Ed25519 key needs a 32-byte base64url \"x\"";
        return nullptr;
    }
    EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(x->data()), x->size());
    if (raw == nullptr) error = "Ed25519 key is invalid";
    return raw == nullptr ? nullptr : own(raw);
}

std::optional<JwtAlg> alg_of(std::string_view alg) noexcept {
    if (alg == "RS256") return JwtAlg::rs256;
    if (alg == "ES256") return JwtAlg::es256;
    if (alg == "EdDSA") return JwtAlg::eddsa;
    return std::nullopt;
}

/// "header.payload.signature" split; false unless exactly three parts.
bool split(std::string_view token, std::string_view (&parts)[3]) noexcept {
    const auto first = token.find('.');
    if (first == std::string_view::npos) return false;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return false;
    parts[0] = token.substr(0, first);
    parts[1] = token.substr(first + 1, second - first - 1);
    parts[2] = token.substr(second + 1);
    return true;
}

std::optional<json::object> decode_object(std::string_view part) {
    const auto bytes = base64url_decode(part);
    if (!bytes) return std::nullopt;
    boost::system::error_code ec;
    json::value value = json::parse(*bytes, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.get_object());
}

/// A NumericDate (RFC 7519): a JSON number of seconds since the epoch.
std::optional<double> numeric_date(const json::object& claims, std::string_view key) {
    const auto it = claims.find(key);
    if (it == claims.end()) return std::nullopt;
    const json::value& v = it->value();
    double seconds = 0;
    if (v.is_int64()) seconds = static_cast<double>(v.get_int64());
    else if (v.is_uint64()) seconds = static_cast<double>(v.get_uint64());
    else if (v.is_double()) seconds = v.get_double();
    else return std::nullopt;
    if (!std::isfinite(seconds)) return std::nullopt;
    return seconds;
}

bool verify_signature(const JwtKey& key, std::string_view signing_input, const std::string& signature) {
    std::string der;
    const std::string* sig = &signature;
    if (key.alg == JwtAlg::es256) {
        // JOSE carries r || s (32 bytes each); OpenSSL verifies the DER ECDSA-Sig-Value.
        if (signature.size() != 64) return false;
        const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
        BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
        BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
        std::unique_ptr<ECDSA_SIG, SigFree> ecdsa(ECDSA_SIG_new());
        if (r == nullptr || s == nullptr || !ecdsa || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
            BN_free(r);
            BN_free(s);
            return false;
        }
        const int length = i2d_ECDSA_SIG(ecdsa.get(), nullptr);
        if (length <= 0) return false;
        der.resize(static_cast<std::size_t>(length));
        auto* out = reinterpret_cast<unsigned char*>(der.data());
        if (i2d_ECDSA_SIG(ecdsa.get(), &out) != length) return false;
        sig = &der;
    } else if (key.alg == JwtAlg::eddsa && signature.size() != 64) {
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    if (!md) return false;
    const char* digest = key.alg == JwtAlg::eddsa ? nullptr : "SHA256";
    if (EVP_DigestVerifyInit_ex(md.get(), nullptr, digest, nullptr, nullptr, key.key.get(), nullptr) != 1)
        return false;
    return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

JwtVerdict refuse(std::string_view why) {
    JwtVerdict v;
    v.error = why;
    return v;
}

}  // namespace

std::optional<Jwks> Jwks::parse(std::string_view text, std::string& error) {
    boost::system::error_code ec;
    json::value document = json::parse(text, ec);
    if (ec) {
        error = "not JSON: " + ec.message();
        return std::nullopt;
    }
    const json::object* top = document.if_object();
    const json::array* keys = nullptr;
    if (top != nullptr) {
        if (const auto it = top->find("keys"); it != top->end()) keys = it->value().if_array();
    }
    if (keys == nullptr) {
        error = "must be an object with a \"keys\" array";
        return std::nullopt;
    }
    Jwks jwks;
    for (std::size_t i = 0; i < keys->size(); ++i) {
        const json::object* jwk = (*keys)[i].if_object();
        const std::string where = "keys/" + std::to_string(i) + ": ";
        if (jwk == nullptr) {
            error = where + "must be an object";
            return std::nullopt;
        }
        const json::string* kty = string_member(*jwk, "kty");
        const json::string* kid = string_member(*jwk, "kid");
        const json::string* crv = string_member(*jwk, "crv");
        const json::string* alg = string_member(*jwk, "alg");
        const json::string* use = string_member(*jwk, "use");
        if (kty == nullptr || kid == nullptr || kid->empty()) continue;  // a token could never name it
        if (use != nullptr && *use != "sig") continue;
        std::optional<JwtAlg> key_alg;
        if (*kty == "RSA") key_alg = JwtAlg::rs256;
        else if (*kty == "EC" && crv != nullptr && *crv == "P-256") key_alg = JwtAlg::es256;
        else if (*kty == "OKP" && crv != nullptr && *crv == "Ed25519") key_alg = JwtAlg::eddsa;
        if (!key_alg) continue;
        if (alg != nullptr && alg_of(view(*alg)) != key_alg) continue;  // e.g. an RS512 key
        std::string why;
        std::shared_ptr<EVP_PKEY> key = *key_alg == JwtAlg::rs256   ? rsa_key(*jwk, why)
                                        : *key_alg == JwtAlg::es256 ? p256_key(*jwk, why)
                                                                    : ed25519_key(*jwk, why);
        if (!key) {
            error = where + why;
            return std::nullopt;
        }
        if (jwks.find(view(*kid), *key_alg) != nullptr) {
            error = where + "kid \"" + std::string(view(*kid)) + "\" is used twice for one algorithm";
            return std::nullopt;
        }
        jwks.keys.push_back(JwtKey{std::string(view(*kid)), *key_alg, std::move(key)});
    }
    if (jwks.keys.empty()) {
        error = "no RS256, ES256 or EdDSA signature key with a kid";
        return std::nullopt;
    }
    return jwks;
}

std::optional<Jwks> Jwks::load(const std::filesystem::path& file, std::string& error) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        error = "cannot read " + file.string();
        return std::nullopt;
    }
    std::string text;
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (text.size() > kMaxJwksBytes) {
        error = file.string() + " is larger than 1 MiB";
        return std::nullopt;
    }
    auto jwks = parse(text, error);
    if (!jwks) error = file.string() + ": " + error;
    return jwks;
}

const JwtKey* Jwks::find(std::string_view kid, JwtAlg alg) const noexcept {
    for (const auto& key : keys)
        if (key.alg == alg && key.kid == kid) return &key;
    return nullptr;
}

bool looks_like_jwt(std::string_view token) noexcept {
    std::string_view parts[3];
    if (!split(token, parts)) return false;
    try {
        const auto header = decode_object(parts[0]);
        return header && header->contains("alg");
    } catch (...) {
        return false;
    }
}

JwtVerdict JwtVerifier::verify(std::string_view token, std::chrono::system_clock::time_point now) const noexcept {
    try {
        std::string_view parts[3];
        if (!split(token, parts)) return refuse("jwt_malformed");
        const auto header = decode_object(parts[0]);
        if (!header) return refuse("jwt_malformed");
        const json::string* alg_name = string_member(*header, "alg");
        if (alg_name == nullptr) return refuse("jwt_malformed");
        const auto alg = alg_of(view(*alg_name));
        if (!alg) return refuse("jwt_alg_not_allowed");  // none, HS*, and everything else
        if (header->contains("crit")) return refuse("jwt_unsupported_crit");
        const json::string* kid = string_member(*header, "kid");
        if (kid == nullptr) return refuse("jwt_unknown_kid");
        const JwtKey* key = jwks_.find(view(*kid), *alg);
        if (key == nullptr) return refuse("jwt_unknown_kid");
        const auto signature = base64url_decode(parts[2]);
        if (!signature) return refuse("jwt_malformed");
        const std::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
        if (!verify_signature(*key, signing_input, *signature)) return refuse("jwt_bad_signature");

        // Only a verified payload is read.
        const auto claims = decode_object(parts[1]);
        if (!claims) return refuse("jwt_malformed");
        const json::string* iss = string_member(*claims, "iss");
        if (iss == nullptr || view(*iss) != config_.issuer) return refuse("jwt_wrong_issuer");
        bool audience_ok = false;
        if (const auto aud = claims->find("aud"); aud != claims->end()) {
            if (const json::string* one = aud->value().if_string()) {
                audience_ok = view(*one) == config_.audience;
            } else if (const json::array* many = aud->value().if_array()) {
                for (const auto& a : *many)
                    if (a.is_string() && view(a.get_string()) == config_.audience) audience_ok = true;
            }
        }
        if (!audience_ok) return refuse("jwt_wrong_audience");
        const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
        const auto leeway = static_cast<double>(config_.leeway.count());
        const auto exp = numeric_date(*claims, "exp");
        if (!exp) return refuse("jwt_missing_exp");
        if (now_s >= *exp + leeway) return refuse("jwt_expired");
        if (claims->contains("nbf")) {
            const auto nbf = numeric_date(*claims, "nbf");
            if (!nbf) return refuse("jwt_malformed");
            if (now_s + leeway < *nbf) return refuse("jwt_not_yet_valid");
        }
        const json::string* sub = string_member(*claims, "sub");
        if (sub == nullptr || sub->empty()) return refuse("jwt_missing_sub");

        JwtVerdict verdict;
        verdict.ok = true;
        verdict.subject.assign(sub->data(), sub->size());
        // Seconds past the epoch to a time point, bounded so that a far-future exp cannot overflow.
        // (system_clock counts nanoseconds in 64 bits: it ends in 2262.)
        const double until_s = std::min(*exp + leeway, 4102444800.0);  // 2100-01-01T00:00:00Z
        verdict.valid_until = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(until_s)));
        return verdict;
    } catch (...) {
        return refuse("jwt_malformed");
    }
}

}  // namespace giosg
