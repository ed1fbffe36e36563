#pragma once
// The audit record of docs/reference.md §4: one JSON line per request. Serialised by hand into a reused
// buffer (no JSON library on the request path). It never holds a key, token, Authorization value
// or query string: there is no field for them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_escape.hpp"
#include "common/reason.hpp"

namespace giosg {

struct AuditRecord {
    std::chrono::system_clock::time_point ts;
    std::string_view request_id;
    std::optional<std::string_view> client;      // null when unauthenticated
    std::string_view remote;                     // "ip:port" / "[v6]:port"
    std::string_view method;
    std::string_view path;                       // no query string
    std::optional<std::string_view> pattern;     // null when none matched
    bool allowed = false;                        // decision: allow / deny
    Reason code = Reason::ok;
    int status = 0;
    std::optional<int> upstream_status;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    double duration_ms = 0;
    std::optional<double> upstream_ms;
    std::uint32_t dropped_headers = 0;           // '_' request fields not forwarded; written when > 0
    // How the client was identified (docs/reference.md §7), written when `identity_kind` is not empty:
    // "identity": "<kind>" or "<kind>:<id>" ("key:2026-q4", "key", "jwt").
    std::string_view identity_kind;
    std::string_view identity_id;
    std::string_view auth_error;                 // why authentication failed; written when not empty
    std::string_view limit;                      // the limit that refused (docs/reference.md "Rate limits"); written when not empty
};

/// Appends the record as one JSON object followed by '\n'.
void append_audit_json(const AuditRecord& record, std::string& out);

/// A `correction` record: the request record with `request_id` was written before its response
/// completed (audit.fsync "always"), and the response then ended otherwise: the client got
/// `status` / `code` and `bytes_out` body bytes. Records are never rewritten; this one follows.
void append_audit_correction_json(std::chrono::system_clock::time_point ts, std::string_view request_id,
                                  Reason code, int status, std::uint64_t bytes_out, std::string& out);

/// RFC 3339 UTC with milliseconds: "2026-11-27T23:59:59.123Z".
void append_rfc3339_ms(std::chrono::system_clock::time_point tp, std::string& out);

}  // namespace giosg
