#pragma once
// One reason code per outcome of a request. The same string appears in the JSON error body,
// the audit record's `code` and the metrics label; status and default detail text live in
// reason.cpp and nowhere else.
#include <cstdint>
#include <string_view>

namespace giosg {

enum class Reason : std::uint8_t {
    ok,                      // forwarded and the upstream answered (whatever its status)
    bad_request,             // 400: framing or target rules of docs/reference.md §3 step 1
    headers_too_large,       // 431
    payload_too_large,       // 413
    request_timeout,         // 408
    not_authenticated,       // 401
    unknown_endpoint,        // 404
    method_not_allowed,      // 405
    organization_forbidden,  // 403
    insufficient_scope,      // 403
    upstream_unavailable,    // 502
    upstream_timeout,        // 504
    audit_unavailable,       // 503: audit.on_failure "deny" and audit records cannot be written
    rate_limited,            // 429: a client or credential limit of docs/reference.md (rate limits)
    upstream_rate_limited,   // 429: giosg answered 429 for this credential; held until Retry-After
    rate_store_unavailable,  // 503: the shared limit store failed and on_store_failure is "deny"
    client_closed,           // 499: the client left before its response
};

inline constexpr int kReasonCount = static_cast<int>(Reason::client_closed) + 1;

/// Stable machine-readable code ("method_not_allowed").
std::string_view reason_code(Reason r) noexcept;
/// HTTP status a gateway-made reply with this reason carries.
int reason_status(Reason r) noexcept;
/// DRF-style human text used when the caller has nothing more specific to say.
std::string_view reason_detail(Reason r) noexcept;
/// Standard reason phrase for a status code ("Not Found"); "Unknown" for unlisted codes. The
/// one phrase table of the gateway: the proxy path and the admin listener both use it.
std::string_view status_phrase(int status) noexcept;

}  // namespace giosg
