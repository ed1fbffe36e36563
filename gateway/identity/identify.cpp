#include "identity/identify.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "common/sha256.hpp"

namespace giosg {
namespace {

constexpr std::string_view kInvalid = "Invalid token.";

Identity refused(std::string_view detail, std::string_view auth_error) noexcept {
    Identity identity;
    identity.detail = detail;
    identity.auth_error = auth_error;
    return identity;
}

Identity accepted(const ClientTable& clients, std::size_t index, IdentityKind kind) noexcept {
    Identity identity;
    identity.reason = Reason::ok;
    identity.client = &clients.clients()[index];
    identity.client_index = index;
    identity.kind = kind;
    return identity;
}

bool is_bearer(std::string_view authorization) noexcept {
    return authorization.size() > 7 && ascii_iequals(authorization.substr(0, 7), "bearer ");
}

}  // namespace

Identity identify(const ClientTable& clients, const PresentedCredentials& presented,
                  std::chrono::system_clock::time_point now, JwtCache* jwt_cache) noexcept {
    if (presented.authorization_count == 0)
        return refused("Authentication credentials were not provided.", "no_credentials");
    if (presented.authorization_count > 1) return refused("More than one Authorization header.", "ambiguous_credentials");
    const std::string_view token = extract_client_key(presented.authorization);
    if (token.empty()) return refused(kInvalid, "unsupported_authorization");
    // One hash serves both lookups: the key table's, and the cache of verified JWTs.
    const KeyDigest digest = sha256(token);

    // A JWT: a Bearer value of three base64url parts whose header has "alg" (CONTRACT §7).
    const bool jwt_shaped = is_bearer(presented.authorization) && std::count(token.begin(), token.end(), '.') == 2;
    if (jwt_shaped) {
        const JwtVerifier* verifier = clients.jwt();
        if (verifier != nullptr && jwt_cache != nullptr) {
            if (const auto index = jwt_cache->find(clients.generation(), digest, now); index >= 0)
                return accepted(clients, static_cast<std::size_t>(index), IdentityKind::jwt);
        }
        if (looks_like_jwt(token)) {
            if (verifier == nullptr) return refused(kInvalid, "jwt_not_configured");
            const JwtVerdict verdict = verifier->verify(token, now);
            if (!verdict.ok) return refused(kInvalid, verdict.error);
            const auto index = clients.find_subject(verdict.subject);
            if (index < 0) return refused(kInvalid, "jwt_unknown_subject");
            if (jwt_cache != nullptr) {
                try {
                    jwt_cache->insert(clients.generation(), digest, static_cast<std::size_t>(index),
                                      verdict.valid_until, now);
                } catch (...) {  // out of memory: the token was still verified
                }
            }
            return accepted(clients, static_cast<std::size_t>(index), IdentityKind::jwt);
        }
    }

    const AuthResult key = clients.find_key(digest, now);
    if (key.reason != Reason::ok) return refused(kInvalid, key.expired ? "key_expired" : "unknown_key");
    Identity identity = accepted(clients, key.client_index, IdentityKind::key);
    if (key.key != nullptr) identity.key_id = key.key->id;
    return identity;
}

}  // namespace giosg
