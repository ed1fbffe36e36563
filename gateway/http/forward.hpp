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
/// Authorization, X-Request-Id, Content-Length, Expect, the hop-by-hop ones and those the client's
/// Connection header lists. Content-Length and the blank line are the caller's: they depend on
/// the body.
void append_upstream_head(std::string& out, const RequestHead& head, const TargetView& target,
                          std::string_view host, std::string_view authorization_line,
                          std::string_view request_id);

}  // namespace giosg::http
