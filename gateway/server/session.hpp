#pragma once
// One client connection: reads requests in order (so pipelined requests are answered in order),
// runs each through CONTRACT §3, forwards the allowed ones and writes one audit record per
// request. Owned by its coroutine; registered with its worker for draining.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "net/deadline.hpp"
#include "net/io.hpp"
#include "http/target.hpp"
#include "policy/decision.hpp"
#include "server/worker.hpp"

namespace giosg::server {

namespace beast = boost::beast;

/// The client side of a connection with the read_some/write shape BodyReader expects.
///
/// An expired deadline *cancels* the pending operation instead of closing the socket, as
/// beast::tcp_stream would: after a slow request head the gateway must still be able to answer
/// 408 on the same connection.
class ClientStream {
public:
    explicit ClientStream(tcp::socket socket);
    /// A read that the deadline cut short fails with beast::error::timeout.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, net::error_code& ec);
    /// Writes a, b and c in one gather write (empty ones are skipped).
    asio::awaitable<void> write(net::error_code& ec, asio::const_buffer a, asio::const_buffer b = {},
                                asio::const_buffer c = {});
    /// Deadline for the operations started from now on (until the next call).
    void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
    void close() noexcept;
    tcp::socket& socket() noexcept { return socket_; }

private:
    tcp::socket socket_;
    net::Deadline deadline_;  // after socket_: it points to it
};

class Session {
public:
    Session(Worker& worker, tcp::socket socket);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    asio::awaitable<void> run();
    /// Closes the connection if it is waiting for a next request (draining).
    void close_if_idle() noexcept;
    /// Closes the client connection and any upstream exchange in flight (drain period over);
    /// the request still gets its audit record, as client_closed.
    void abort() noexcept;

private:
    struct Exchange;  // one request's state, defined in session.cpp

    enum class HeadOutcome : std::uint8_t { ok, idle_closed, error };
    asio::awaitable<HeadOutcome> read_request_head(Exchange& ex, bool first_request);
    asio::awaitable<bool> handle(Exchange& ex);     // true: keep the connection
    asio::awaitable<bool> read_request_body(Exchange& ex);
    asio::awaitable<bool> forward(Exchange& ex);
    asio::awaitable<void> linger_close();
    asio::awaitable<bool> send_error(Exchange& ex, Reason reason, std::string_view detail, bool close);
    void build_upstream_head(Exchange& ex, const http::RequestHead& head, const http::TargetView& target);
    /// Under audit.fsync "always": writes the record now, as the response is about to complete,
    /// and waits until it is on disk. False when it could not be made durable and
    /// audit.on_failure is "deny". Elsewhere a no-op returning true (the record follows the response).
    asio::awaitable<bool> commit_audit(Exchange& ex);
    /// Submits the audit record (once per request); returns its durability ticket.
    std::uint64_t record_audit(Exchange& ex);
    /// After a recorded response ended otherwise than its record says (audit_unavailable).
    void submit_correction(Exchange& ex);
    void finish(Exchange& ex);

    Worker& worker_;
    ClientStream client_;
    std::string remote_;
    net::ReadBuffer buffer_;
    bool idle_ = true;
    bool closed_ = false;
    bool pipelining_ = false;                   // a request came before the previous one was answered
    bool linger_ = false;                       // closing after an error: drain before close
    upstream::Connection* upstream_ = nullptr;  // the upstream exchange in flight, if any
    asio::steady_timer audit_wait_;             // commit_audit's wait; cancelled to wake it
    http::RequestHead head_;
    http::ResponseHead response_;
    // Reused between requests so that a keep-alive connection allocates nothing in steady state.
    std::string upstream_head_;
    std::string body_;
    std::string out_;
    std::string audit_line_;
};

asio::awaitable<void> run_session(Worker& worker, tcp::socket socket);

}  // namespace giosg::server
