#pragma once
// The identify stage (docs/architecture.md): decides, in one place, who is calling: an internal
// key or a JWT in the Authorization header (docs/reference.md §7). The rest of the pipeline sees only
// "client X via Y". Pure: no Asio; the time is a parameter.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/reason.hpp"
#include "identity/client_table.hpp"
#include "identity/jwt_cache.hpp"

namespace giosg {

/// What the request presented to prove who it is.
struct PresentedCredentials {
    std::string_view authorization;        // the first Authorization value
    std::size_t authorization_count = 0;   // how many Authorization fields there were
    const Peer* peer = nullptr;            // what the connection proved: certificate or uid
};

/// How the caller was identified (the audit record's "identity").
enum class IdentityKind : std::uint8_t { none, key, jwt, mtls, uid };

struct Identity {
    Reason reason = Reason::not_authenticated;  // ok or not_authenticated
    const ClientConfig* client = nullptr;       // set when ok
    std::size_t client_index = 0;               // index into ClientTable::clients()
    IdentityKind kind = IdentityKind::none;
    /// mtls or uid when the connection also named a client beside a key or JWT in `kind` (the
    /// same one, or, refused, another).
    IdentityKind transport = IdentityKind::none;
    std::string_view key_id;                    // for kind key: the "keys" id; empty for key_sha256
    std::string_view detail;                    // why not, safe to send (static text)
    std::string_view auth_error;                // why not, for the audit record only (static text)

    [[nodiscard]] bool known() const noexcept { return reason == Reason::ok; }
};

/// The audit record's "identity" without the key id: "key", "jwt", "mtls", "uid", or, when the
/// connection and the Authorization field both named a client, "mtls+key", "uid+jwt" and so on.
/// Empty when nothing identified the caller.
std::string_view identity_label(const Identity& identity) noexcept;

/// Who is calling (docs/reference.md §7). The connection's certificate or uid names a client;
/// a key or JWT, when present, must be valid and, beside a certificate or uid, name the same
/// client. Missing, unknown, expired, conflicting, or more than one Authorization header: not
/// authenticated (401). A Bearer value shaped like a JWT is verified as one (found in
/// `jwt_cache` when verified before); anything else is a key. `now` decides key expiry and JWT
/// validity.
Identity identify(const ClientTable& clients, const PresentedCredentials& presented,
                  std::chrono::system_clock::time_point now, JwtCache* jwt_cache = nullptr) noexcept;

}  // namespace giosg
