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

constexpr std::string_view kNotProvided = "Authentication credentials were not provided.";

/// What the connection proved: the client its certificate or uid names (-1: none).
struct TransportIdentity {
    IdentityKind kind = IdentityKind::none;
    std::ptrdiff_t client = -1;
    std::string_view error;  // why it names no client, for the audit record
};

TransportIdentity transport_identity(const ClientTable& clients, const Peer* peer) noexcept {
    TransportIdentity result;
    if (peer == nullptr) return result;
    if (peer->uid) {
        result.kind = IdentityKind::uid;
        result.client = clients.find_uid(*peer->uid);
        if (result.client < 0) result.error = "uid_unknown";
    } else if (peer->certificate) {
        result.kind = IdentityKind::mtls;
        try {
            result.client = clients.find_certificate(*peer->certificate);
        } catch (...) {  // hashing a name does not allocate; never refuse open
            result.client = -1;
        }
        if (result.client == ClientTable::kAmbiguous) result.error = "mtls_ambiguous_certificate";
        else if (result.client < 0) result.error = "mtls_unknown_certificate";
    }
    return result;
}

/// The Authorization field alone: a key or a JWT.
Identity identify_authorization(const ClientTable& clients, const PresentedCredentials& presented,
                                std::chrono::system_clock::time_point now, JwtCache* jwt_cache) noexcept;

}  // namespace

std::string_view identity_label(const Identity& identity) noexcept {
    const auto single = [](IdentityKind kind) -> std::string_view {
        switch (kind) {
            case IdentityKind::key: return "key";
            case IdentityKind::jwt: return "jwt";
            case IdentityKind::mtls: return "mtls";
            case IdentityKind::uid: return "uid";
            case IdentityKind::none: break;
        }
        return {};
    };
    if (identity.transport == IdentityKind::none) return single(identity.kind);
    const bool jwt = identity.kind == IdentityKind::jwt;
    if (identity.transport == IdentityKind::mtls) return jwt ? "mtls+jwt" : "mtls+key";
    return jwt ? "uid+jwt" : "uid+key";
}

// The one place that decides which identity applies (docs/reference.md §7).
Identity identify(const ClientTable& clients, const PresentedCredentials& presented,
                  std::chrono::system_clock::time_point now, JwtCache* jwt_cache) noexcept {
    const TransportIdentity transport = transport_identity(clients, presented.peer);
    // A certificate whose names lead to two clients identifies nobody, whatever else is sent.
    if (transport.client == ClientTable::kAmbiguous) return refused(kInvalid, transport.error);
    if (presented.authorization_count == 0) {
        if (transport.client >= 0) return accepted(clients, static_cast<std::size_t>(transport.client), transport.kind);
        return refused(kNotProvided, transport.error.empty() ? "no_credentials" : transport.error);
    }
    Identity identity = identify_authorization(clients, presented, now, jwt_cache);
    // A key or JWT is checked even when the connection named the client: it must be valid, and
    // name the same client.
    if (!identity.known() || transport.client < 0) return identity;
    identity.transport = transport.kind;
    if (identity.client_index != static_cast<std::size_t>(transport.client)) {
        identity.reason = Reason::not_authenticated;
        identity.client = nullptr;
        identity.client_index = 0;
        identity.detail = kInvalid;
        identity.auth_error = "conflicting_identities";
    }
    return identity;
}

namespace {

Identity identify_authorization(const ClientTable& clients, const PresentedCredentials& presented,
                                std::chrono::system_clock::time_point now, JwtCache* jwt_cache) noexcept {
    if (presented.authorization_count > 1) return refused("More than one Authorization header.", "ambiguous_credentials");
    const std::string_view token = extract_client_key(presented.authorization);
    if (token.empty()) return refused(kInvalid, "unsupported_authorization");
    // One hash serves both lookups: the key table's, and the cache of verified JWTs.
    const KeyDigest digest = sha256(token);

    // A JWT: a Bearer value of three base64url parts whose header has "alg" (docs/reference.md §7).
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

}  // namespace
}  // namespace giosg
