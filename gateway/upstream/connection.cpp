#include "upstream/connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <stdexcept>

#include "net/peek.hpp"

namespace giosg::net {
bool tls_stream_truncated(const error_code& ec) noexcept {
    return ec == boost::asio::ssl::error::stream_truncated;
}
}  // namespace giosg::net

namespace giosg::upstream {

using net::use_nothrow;

Connection::Connection(asio::any_io_executor executor, asio::ssl::context* tls)
    : stream_(tls ? decltype(stream_){std::in_place_index<1>, tcp::socket(executor), *tls}
                  : decltype(stream_){std::in_place_index<0>, executor}),
      deadline_(executor, lowest(), net::Deadline::OnExpiry::close) {}

tcp::socket& Connection::lowest() noexcept {
    return std::visit([](auto& s) -> tcp::socket& { return beast::get_lowest_layer(s); }, stream_);
}
const tcp::socket& Connection::lowest() const noexcept {
    return std::visit([](auto& s) -> const tcp::socket& { return beast::get_lowest_layer(s); }, stream_);
}

asio::awaitable<error_code> Connection::connect(const UpstreamUrl& url, const tcp::resolver::results_type& endpoints,
                                                std::chrono::milliseconds timeout) {
    auto& socket = lowest();
    deadline_.expires_after(timeout);  // for the connect and the TLS handshake together
    auto [ec, ep] = co_await asio::async_connect(socket, endpoints, use_nothrow);
    if (ec) co_return deadline_.outcome(ec);
    socket.set_option(tcp::no_delay(true), ec);
    if (auto* tls = std::get_if<1>(&stream_)) {
        error_code addr_ec;
        asio::ip::make_address(url.host, addr_ec);
        // SNI is only for host names (RFC 6066 §3); an address is verified against IP SANs.
        // SSL_set_tlsext_host_name is a macro with a C cast; this is the call it expands to.
        if (addr_ec && SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                const_cast<char*>(url.host.c_str())) != 1)
            co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
        auto [hs_ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, use_nothrow);
        if (hs_ec) co_return deadline_.outcome(hs_ec);
    }
    co_return error_code{};
}

asio::awaitable<std::size_t> Connection::read_some(asio::mutable_buffer buffer, error_code& ec) {
    auto [e, n] = co_await std::visit([&](auto& s) { return s.async_read_some(buffer, use_nothrow); }, stream_);
    ec = deadline_.outcome(e);
    co_return n;
}

asio::awaitable<void> Connection::write(error_code& ec, asio::const_buffer a, asio::const_buffer b,
                                        asio::const_buffer c) {
    const std::array<asio::const_buffer, 3> buffers{a, b, c};
    auto [e, n] = co_await std::visit([&](auto& s) { return asio::async_write(s, buffers, use_nothrow); }, stream_);
    ec = deadline_.outcome(e);
}

bool Connection::stale() const {
    if (!buffer_.empty()) return true;  // unsolicited bytes after a complete response
    // TLS: bytes may already sit decrypted inside OpenSSL, where the socket peek cannot see them.
    if (const auto* tls = std::get_if<1>(&stream_);
        tls != nullptr && SSL_pending(const_cast<beast::ssl_stream<tcp::socket>*>(tls)->native_handle()) > 0)
        return true;
    auto& socket = const_cast<tcp::socket&>(lowest());
    if (!socket.is_open()) return true;
    // Peeked on every reuse, also microseconds after the release: bytes the upstream sends after
    // a complete response (a wrong Content-Length, a second answer) would otherwise be read as
    // the next request's response, which may be another client's. The peek costs one syscall.
    // FIN, a reset, or data (unsolicited bytes, a TLS close_notify): not reusable.
    return net::peek(socket.native_handle()) != net::Peek::nothing;
}

void Connection::close() noexcept {
    error_code ec;
    lowest().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close(ec);
    deadline_.cancel();
}

Pool::Pool(asio::any_io_executor executor, const UpstreamConfig& config, asio::ssl::context* tls, Options options)
    : executor_(executor),
      config_(config),
      tls_(tls),
      options_(options),
      stats_(options.stats != nullptr ? options.stats : &own_stats_) {}

asio::awaitable<error_code> Pool::resolve() {
    const auto now = std::chrono::steady_clock::now();
    if (!endpoints_.empty() && now - resolved_at_ < options_.dns_ttl) co_return error_code{};
    // getaddrinfo has no deadline and Asio 1.81 cannot cancel it, so awaiting it under a timeout
    // would still wait for it. The lookup runs on its own; we wait for it or connect_timeout,
    // whichever comes first, and a late answer only lands in the shared state.
    struct Lookup {
        explicit Lookup(asio::any_io_executor ex) : resolver(ex), done(ex) {}
        tcp::resolver resolver;
        asio::steady_timer done;  // cancelled when the answer is in
        bool finished = false;
        error_code ec;
        tcp::resolver::results_type results;
    };
    auto lookup = std::make_shared<Lookup>(executor_);
    lookup->done.expires_after(config_.connect_timeout);
    lookup->resolver.async_resolve(config_.url.host, std::to_string(config_.url.port),
                                   [lookup](const error_code& ec, tcp::resolver::results_type results) {
                                       lookup->finished = true;
                                       lookup->ec = ec;
                                       lookup->results = std::move(results);
                                       lookup->done.cancel();
                                   });
    co_await lookup->done.async_wait(use_nothrow);
    if (!lookup->finished) co_return asio::error::timed_out;
    if (lookup->ec) co_return lookup->ec;
    endpoints_ = std::move(lookup->results);
    resolved_at_ = now;
    co_return error_code{};
}

asio::awaitable<Pool::Lease> Pool::connect_new() {
    Lease lease;
    const auto started = std::chrono::steady_clock::now();
    if (auto ec = co_await resolve()) {
        lease.error = ec;
        co_return lease;
    }
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const auto left = std::max(config_.connect_timeout - spent, std::chrono::milliseconds(1));
    auto connection = std::make_unique<Connection>(executor_, tls_);
    stats_->opened.fetch_add(1, std::memory_order_relaxed);
    if (auto ec = co_await connection->connect(config_.url, endpoints_, left)) {
        if (ec == beast::error::timeout) ec = asio::error::timed_out;
        lease.error = ec;
        endpoints_ = {};  // re-resolve next time: the address may have moved
        co_return lease;
    }
    lease.connection = std::move(connection);
    co_return lease;
}

asio::awaitable<Pool::Lease> Pool::acquire() {
    const auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
        auto connection = std::move(idle_.back());  // most recently used: least likely to be stale
        idle_.pop_back();
        if (now - connection->idle_since < options_.idle_ttl && !connection->stale()) {
            Lease lease;
            lease.connection = std::move(connection);
            lease.reused = true;
            co_return lease;
        }
        connection->close();
    }
    co_return co_await connect_new();
}

void Pool::release(std::unique_ptr<Connection> connection) {
    if (!connection) return;
    if (closing_) {
        connection->close();
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    // acquire() takes the most recently used connection, so those at the front are reached only
    // when the pool runs down to them: after a burst they would hold upstream sockets long past
    // idle_ttl. Close them here instead.
    while (!idle_.empty() && now - idle_.front()->idle_since >= options_.idle_ttl) {
        idle_.front()->close();
        idle_.pop_front();
    }
    if (idle_.size() >= options_.max_idle) {
        // Full: the oldest idle connection goes (the least likely to be alive at the upstream).
        stats_->idle_overflow.fetch_add(1, std::memory_order_relaxed);
        if (idle_.empty()) {  // max_idle 0: no pooling at all
            connection->close();
            return;
        }
        idle_.front()->close();
        idle_.pop_front();
    }
    connection->idle_since = now;
    connection->clear_deadline();  // an idle connection's end is idle_ttl, checked at acquire
    connection->buffer().shrink(65536);
    idle_.push_back(std::move(connection));
}

void Pool::close_idle() noexcept {
    closing_ = true;
    for (auto& c : idle_) c->close();
    idle_.clear();
}

asio::awaitable<HeadError> read_response_head(Connection& connection, bool request_was_head,
                                              http::ResponseHead& head, std::size_t& consumed,
                                              std::size_t max_head_bytes) {
    auto& buffer = connection.buffer();
    bool got_any = !buffer.empty();
    for (;;) {
        if (!buffer.empty()) {
            const auto result = http::parse_response_head(buffer.view(), max_head_bytes, request_was_head, head);
            if (result.status == http::ParseStatus::error) co_return HeadError::invalid;
            if (result.status == http::ParseStatus::complete) {
                if (head.status >= 100 && head.status < 200) {
                    if (head.status == 101) co_return HeadError::invalid;  // we never ask to upgrade
                    buffer.consume(result.head_bytes);                     // interim (100, 103): skip
                    continue;
                }
                consumed = result.head_bytes;
                co_return HeadError::none;
            }
        }
        error_code ec;
        const auto n = co_await connection.read_some(buffer.prepare(8192), ec);
        buffer.commit(n);
        if (n > 0) {
            got_any = true;
            continue;
        }
        if (ec == beast::error::timeout) co_return HeadError::timeout;
        if (!got_any && (ec == asio::error::eof || ec == asio::error::connection_reset ||
                         net::tls_stream_truncated(ec)))
            co_return HeadError::closed_before_head;
        co_return HeadError::io;
    }
}

}  // namespace giosg::upstream
