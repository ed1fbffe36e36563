#pragma once
// One client connection: reads requests in order (so pipelined requests are answered in order),
// runs each through CONTRACT §3, forwards the allowed ones and writes one audit record per
// request. Owned by its coroutine; registered with its worker for draining.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "net/io.hpp"
#include "http/target.hpp"
#include "policy/decision.hpp"
#include "server/worker.hpp"

namespace giosg::server {

namespace beast = boost::beast;

/// The client side stream with the read_some/write shape BodyReader expects.
class ClientStream {
public:
    explicit ClientStream(tcp::socket socket) : stream_(std::move(socket)) {}
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, net::error_code& ec);
    /// Writes a, b and c in one gather write (empty ones are skipped).
    asio::awaitable<void> write(net::error_code& ec, asio::const_buffer a, asio::const_buffer b = {},
                                asio::const_buffer c = {});
    void expires_after(std::chrono::milliseconds timeout) { stream_.expires_after(timeout); }
    void close() noexcept;
    beast::tcp_stream& stream() noexcept { return stream_; }

private:
    beast::tcp_stream stream_;
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

private:
    struct Exchange;  // one request's state, defined in session.cpp

    enum class HeadOutcome : std::uint8_t { ok, idle_closed, error };
    asio::awaitable<HeadOutcome> read_request_head(Exchange& ex);
    asio::awaitable<bool> handle(Exchange& ex);     // true: keep the connection
    asio::awaitable<bool> read_request_body(Exchange& ex);
    asio::awaitable<bool> forward(Exchange& ex);
    asio::awaitable<bool> send_error(Exchange& ex, Reason reason, std::string_view detail, bool close);
    void build_upstream_head(Exchange& ex, const http::RequestHead& head, const http::TargetView& target);
    void finish(Exchange& ex);

    Worker& worker_;
    ClientStream client_;
    std::string remote_;
    net::ReadBuffer buffer_;
    bool idle_ = true;
    bool closed_ = false;
    http::RequestHead head_;
    // Reused between requests so that a keep-alive connection allocates nothing in steady state.
    std::string upstream_head_;
    std::string body_;
    std::string out_;
    std::string audit_line_;
};

asio::awaitable<void> run_session(Worker& worker, tcp::socket socket);

}  // namespace giosg::server
