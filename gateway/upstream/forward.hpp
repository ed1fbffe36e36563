#pragma once
// The forward stage (docs/architecture.md): sends the prepared request over a pooled upstream
// connection and reads the response head. The token swap happened when the head was built
// (http/forward.hpp); the body is relayed by the relay stage.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string_view>

#include "common/reason.hpp"
#include "http/head.hpp"
#include "upstream/connection.hpp"

namespace giosg::upstream {

struct ForwardRequest {
    std::array<asio::const_buffer, 3> bytes;  // head, framing + blank line, body
    std::string_view method;
    std::string_view request_id;              // for log lines
    std::chrono::milliseconds timeout;        // from the first byte sent until the response head
};

struct ForwardOutcome {
    Reason reason = Reason::ok;               // ok, upstream_unavailable or upstream_timeout
    std::unique_ptr<Connection> connection;   // ok: the head is parsed; its bytes are still buffered
    std::size_t head_bytes = 0;               // ok: how many buffered bytes the head took
    std::optional<double> upstream_ms;        // set once the request went out (also when it failed)
    bool answered = false;                    // a response head arrived (even one then refused)
};

/// Sends `request` and reads the response head into `response`. A reused connection that the
/// upstream had closed before answering gets one retry on a new connection when the method is
/// idempotent. `active` points to the connection in use while the exchange runs (so that a drain
/// can close it) and is null again when this returns. Transfer codings besides chunked and
/// invalid heads are upstream_unavailable.
asio::awaitable<ForwardOutcome> forward_request(Pool& pool, const ForwardRequest& request,
                                                http::ResponseHead& response, Connection*& active);

}  // namespace giosg::upstream
