#pragma once
// Connections to the giosg upstream: plain TCP or TLS (certificate and host-name verification
// always on, SNI set), each with a deadline on every operation, and a per-worker keep-alive pool.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "config/config.hpp"
#include "net/deadline.hpp"
#include "net/body_reader.hpp"
#include "upstream/pool_stats.hpp"

namespace giosg::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;

using tcp = asio::ip::tcp;
using net::error_code;

class Connection {
public:
    Connection(asio::any_io_executor executor, asio::ssl::context* tls);

    /// Connects to one of `endpoints` and, for TLS, handshakes with SNI and host-name
    /// verification for `url.host`; everything within `timeout`.
    asio::awaitable<error_code> connect(const UpstreamUrl& url, const tcp::resolver::results_type& endpoints,
                                        std::chrono::milliseconds timeout);

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
    /// Writes a, b and c in one gather write (empty ones are skipped).
    asio::awaitable<void> write(error_code& ec, asio::const_buffer a, asio::const_buffer b = {},
                                asio::const_buffer c = {});

    /// Deadline for every operation pending or started from now on; when it passes, the
    /// connection is closed and the operation fails with beast::error::timeout.
    void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
    /// No deadline (parked in the pool).
    void clear_deadline() noexcept { deadline_.clear(); }
    /// True when the peer closed, reset or sent unsolicited bytes while the connection sat idle:
    /// a pooled connection that must not be reused.
    [[nodiscard]] bool stale() const;
    void close() noexcept;

    net::ReadBuffer& buffer() noexcept { return buffer_; }
    std::chrono::steady_clock::time_point idle_since{};

private:
    tcp::socket& lowest() noexcept;
    const tcp::socket& lowest() const noexcept;

    std::variant<tcp::socket, beast::ssl_stream<tcp::socket>> stream_;
    net::Deadline deadline_;  // after stream_: it points to its socket
    net::ReadBuffer buffer_;
};

/// Per-worker pool of idle keep-alive connections to the one upstream. Single-threaded: used
/// only from its worker's io_context.
class Pool {
public:
    struct Options {
        std::size_t max_idle = 256;                       // idle connections kept at most (0: none)
        std::chrono::seconds idle_ttl{30};                // idle longer than this: closed, not reused
        std::chrono::seconds dns_ttl{30};                 // resolved addresses reused this long
        PoolStats* stats = nullptr;                       // counters to feed (metrics); null: the pool's own
    };

    Pool(asio::any_io_executor executor, const UpstreamConfig& config, asio::ssl::context* tls, Options options);
    /// max_idle from `config.max_idle_connections`, the other options at their defaults.
    Pool(asio::any_io_executor executor, const UpstreamConfig& config, asio::ssl::context* tls)
        : Pool(std::move(executor), config, tls, Options{.max_idle = config.max_idle_connections}) {}

    struct Lease {
        std::unique_ptr<Connection> connection;  // null on error
        bool reused = false;
        error_code error;                        // timed_out when connect_timeout passed
    };

    /// An idle connection if a live one is pooled, else a new one (resolve + connect + TLS
    /// within connect_timeout). A pooled one is reused only when stale() finds nothing on it.
    asio::awaitable<Lease> acquire();
    /// A fresh connection, never a pooled one (used for the retry after a stale reuse).
    asio::awaitable<Lease> connect_new();
    /// Returns a connection whose last response was read completely and may be kept alive.
    void release(std::unique_ptr<Connection> connection);
    /// Closes every idle connection, and from now on every connection released (shutdown: a
    /// pooled connection's timer would keep the worker's io_context from running out of work).
    void close_idle() noexcept;

    [[nodiscard]] std::size_t idle_count() const noexcept { return idle_.size(); }
    [[nodiscard]] const PoolStats& stats() const noexcept { return *stats_; }
    [[nodiscard]] const UpstreamConfig& config() const noexcept { return config_; }

private:
    asio::awaitable<error_code> resolve();

    asio::any_io_executor executor_;
    UpstreamConfig config_;
    asio::ssl::context* tls_;
    Options options_;
    tcp::resolver::results_type endpoints_;
    std::chrono::steady_clock::time_point resolved_at_{};
    std::deque<std::unique_ptr<Connection>> idle_;
    bool closing_ = false;  // close_idle() was called: nothing is pooled any more
    PoolStats own_stats_;
    PoolStats* stats_;  // options_.stats or &own_stats_
};

/// The outcome of reading an upstream response head.
enum class HeadError : std::uint8_t { none, io, timeout, closed_before_head, invalid };

/// Reads and parses a response head into `head` (views into the connection's buffer); skips
/// interim 1xx responses other than 101. Bytes of the body that arrived with the head stay in
/// the buffer, after `consumed` bytes of heads.
asio::awaitable<HeadError> read_response_head(Connection& connection, bool request_was_head,
                                              http::ResponseHead& head, std::size_t& consumed,
                                              std::size_t max_head_bytes);

}  // namespace giosg::upstream
