// The read stage (docs/architecture.md): the request head, bounded in bytes and time, and the
// request body; and the lingering close after an error.
#include <boost/beast/core/error.hpp>

#include "server/session.hpp"

namespace giosg::server {

using net::error_code;

namespace {
// The read that waits for a request: a typical API request head is 300-800 bytes, and the
// buffer stays allocated while the connection idles, so it starts small; a longer head is read
// on in 8 KiB steps.
constexpr std::size_t kFirstReadBytes = 2048;
constexpr std::size_t kMoreHeadBytes = 8192;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A kept-alive plain TCP connection waits this long for its next request with its session in
// place (no cost under load); then it is parked without one for the rest of idle_timeout
// (server/parked.hpp), which costs a few allocations when it speaks again.
constexpr std::chrono::milliseconds kParkAfter{1000};
}  // namespace

// Reads until a complete head is buffered. Every head gets `header_timeout` from its first
// byte. Between requests a keep-alive connection may sit idle for `idle_timeout`; a new
// connection gets only `header_timeout` for its first byte (a silent connection is no client).
// The exchange takes the worker's snapshot when its head begins and keeps it to the end: a
// reload may free the previous one while this coroutine waits, so nothing here holds a
// reference into the worker's current snapshot across a co_await.
asio::awaitable<Session::HeadOutcome> Session::read_request_head(Exchange& ex, bool first_request) {
    if (buffer_.empty()) {
        idle_ = true;
        if (worker_.draining) co_return HeadOutcome::idle_closed;
        // Copied: a reload during the wait may free the snapshot these come from.
        const auto idle_timeout = worker_.snapshot->config->limits.idle_timeout;
        const auto header_timeout = worker_.snapshot->config->limits.header_timeout;
        // A connection that pipelined keeps its session: that is remembered there (relay stage).
        const bool may_park = !first_request && !tls_ && !pipelining_ && client_.tcp_socket() != nullptr &&
                              idle_timeout > kParkAfter;
        client_.expires_after(first_request ? header_timeout : may_park ? kParkAfter : idle_timeout);
        error_code ec;
        const auto n = co_await client_.read_some(buffer_.prepare(kFirstReadBytes), ec);
        buffer_.commit(n);
        idle_ = false;
        if (n == 0) {
            if (may_park && ec == boost::beast::error::timeout && !closed_ && !worker_.draining) {
                // It has idled kParkAfter of its idle_timeout already (no clock read per request).
                idle_until_ = std::chrono::steady_clock::now() + (idle_timeout - kParkAfter);
                co_return HeadOutcome::park;
            }
            co_return HeadOutcome::idle_closed;  // closed, reset, idle timeout or draining
        }
    }
    idle_ = false;
    ex.snapshot = worker_.snapshot;
    const auto& limits = ex.snapshot->config->limits;
    ex.started = Exchange::Clock::now();
    ex.ts = std::chrono::system_clock::now();
    client_.expires_after(limits.header_timeout);
    for (;;) {
        const auto result = http::parse_request_head(buffer_.view(), limits.max_header_bytes, head_);
        if (result.status == http::ParseStatus::complete) {
            ex.head_bytes = result.head_bytes;
            co_return HeadOutcome::ok;
        }
        if (result.status == http::ParseStatus::error) {
            ex.code = result.reason;
            ex.detail = result.detail;
            break;
        }
        error_code ec;
        const auto n = co_await client_.read_some(buffer_.prepare(kMoreHeadBytes), ec);
        buffer_.commit(n);
        if (n > 0) continue;
        if (ec == boost::beast::error::timeout) {
            ex.code = Reason::request_timeout;
            ex.detail = reason_detail(Reason::request_timeout);
            break;
        }
        // The client left halfway through a head: record what we saw, answer nobody.
        ex.code = Reason::client_closed;
        break;
    }
    // Best effort for the audit record: method and path from a request line we could not accept,
    // only when the first line has a request line's shape. Anything else may be the middle of a
    // head (a pipelined request cut by a wrong Content-Length): "Token <key>" must not become a
    // method and a path.
    if (const auto line = http::request_line_parts(buffer_.view().substr(0, std::min<std::size_t>(buffer_.size(), 4096)))) {
        ex.method.assign(line->method);
        ex.set_refused_path(line->target);
    }
    if (ex.code == Reason::client_closed) {
        ex.client_left();
        finish(ex);
        co_return HeadOutcome::idle_closed;
    }
    co_return HeadOutcome::error;
}

// Closing a socket with unread request bytes makes the kernel answer RST, and many clients then
// report a connection error instead of the 4xx they were sent. So, like nginx's lingering_close:
// stop sending, discard what the client still sends for a short bounded while, then close.
asio::awaitable<void> Session::linger_close() {
    constexpr std::size_t kLingerBytes = 1u << 20;
    error_code ec;
    client_.shutdown_send();
    client_.expires_after(std::chrono::seconds(2));
    std::size_t drained = 0;
    while (drained < kLingerBytes && !closed_) {
        buffer_.clear();
        const auto n = co_await client_.read_some(buffer_.prepare(16384), ec);
        if (n == 0) break;
        drained += n;
    }
    buffer_.clear();
}

asio::awaitable<bool> Session::read_request_body(Exchange& ex) {
    const auto& limits = ex.snapshot->config->limits;
    error_code ec;
    if (ex.expect_continue && buffer_.empty()) {
        client_.expires_after(limits.idle_timeout);
        co_await client_.write(ec, asio::buffer(kContinue));
        if (ec) {
            ex.client_left();
            co_return false;
        }
    }
    if (ex.body_kind == http::BodyKind::content_length) body_.reserve(static_cast<std::size_t>(ex.content_length));
    net::BodyReader reader(client_, buffer_, ex.body_kind, ex.content_length);
    while (!reader.done() && reader.error() == net::BodyError::none) {
        client_.expires_after(limits.idle_timeout);
        const auto piece = co_await reader.next();
        body_.append(piece);
        ex.bytes_in += piece.size();
        if (body_.size() > limits.max_body_bytes)
            co_return co_await respond_error(ex, Reason::payload_too_large, reason_detail(Reason::payload_too_large), true);
    }
    reader.settle();
    switch (reader.error()) {
        case net::BodyError::none:
            co_return true;
        case net::BodyError::bad_framing:
            co_return co_await respond_error(ex, Reason::bad_request, "invalid chunked body", true);
        case net::BodyError::io:
            if (reader.io_error() == boost::beast::error::timeout)
                co_return co_await respond_error(ex, Reason::request_timeout, reason_detail(Reason::request_timeout), true);
            [[fallthrough]];
        default:
            ex.client_left();
            co_return false;
    }
}

}  // namespace giosg::server
