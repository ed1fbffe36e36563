#pragma once
// The request head the gateway sends upstream, built from the client's: one function for the
// server (server/session.cpp) and the header-rewrite benchmark, so that the benchmark measures
// what the gateway does.
#include <string>
#include <string_view>

#include "http/head.hpp"
#include "http/target.hpp"

namespace giosg::http {

/// Appends to `out`: `<method> <forward target> HTTP/1.1`, `Host: <host>`, `authorization_line`
/// as given (the whole server credential line, CRLF included: it is a secret prepared once per
/// snapshot), `X-Request-Id: <request_id>`, then the client's fields in their order except Host,
/// Authorization, X-Request-Id, Content-Length, Expect, the hop-by-hop ones, those the client's
/// Connection header lists, Forwarded / X-Forwarded-* / X-Real-IP (internal addresses and
/// spoofed values never reach giosg) and every field whose name contains '_' (a WSGI upstream
/// would read `X_Request_Id` as `X-Request-Id`). Content-Length and the blank line are the
/// caller's: they depend on the body. Returns how many '_' fields were dropped (metric, audit).
std::size_t append_upstream_head(std::string& out, const RequestHead& head, const TargetView& target,
                                 std::string_view host, std::string_view authorization_line,
                                 std::string_view request_id);

/// True for a field name that contains '_': never forwarded (docs/reference.md §3 step 7).
[[nodiscard]] bool has_underscore(std::string_view name) noexcept;

/// True when the request carries X-HTTP-Method-Override, X-HTTP-Method or X-Method-Override (any
/// case): frameworks that honour them would run another method than the one the gateway checked.
[[nodiscard]] bool carries_method_override(const RequestHead& head) noexcept;

/// True for the fields a client may not set for the upstream: Forwarded, X-Forwarded-*, X-Real-IP.
[[nodiscard]] bool is_client_forwarding_field(std::string_view name) noexcept;

}  // namespace giosg::http
