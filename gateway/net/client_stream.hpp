#pragma once
// The client side of a connection, with the read_some/write shape BodyReader expects: plain TCP,
// TLS over TCP, or a unix socket. One small variant rather than a template, so that the session
// and its stages are one piece of code for every listener (docs/architecture.md).
//
// An expired deadline *cancels* the pending operation instead of closing the socket, as
// beast::tcp_stream would: after a slow request head the gateway must still be able to answer
// 408 on the same connection.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <variant>

#include "net/deadline.hpp"
#include "net/io.hpp"


namespace giosg::net {

using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
using tls_stream = boost::beast::ssl_stream<tcp::socket>;

class ClientStream {
public:
    explicit ClientStream(tcp::socket socket);
    /// TLS on `socket`; handshake() must succeed before anything is read or written.
    ClientStream(tcp::socket socket, asio::ssl::context& tls);
    explicit ClientStream(unix_socket socket);

    /// The server side of the TLS handshake, under the deadline set before it.
    asio::awaitable<error_code> handshake();
    /// TLS only: sends close_notify and waits (under the deadline set before it) for the
    /// peer's, so a client can tell the end of a close-delimited response from a cut.
    asio::awaitable<void> shutdown_tls();
    /// A read that the deadline cut short fails with beast::error::timeout.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
    /// Writes a, b and c in one gather write (empty ones are skipped).
    asio::awaitable<void> write(error_code& ec, asio::const_buffer a, asio::const_buffer b = {},
                                asio::const_buffer c = {});
    /// Deadline for the operations started from now on (until the next call).
    void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
    /// Stops sending (a FIN), still reading: the lingering close.
    void shutdown_send() noexcept;
    void close() noexcept;
    /// Plain TCP only, nothing pending: the socket, moved out (the stream is left closed).
    [[nodiscard]] tcp::socket release_tcp() noexcept;

    [[nodiscard]] int native_handle() noexcept;
    /// The TCP socket, or null on a unix socket.
    [[nodiscard]] tcp::socket* tcp_socket() noexcept;
    /// The unix socket, or null on TCP.
    [[nodiscard]] unix_socket* local_socket() noexcept { return std::get_if<unix_socket>(&stream_); }
    /// OpenSSL's connection (the peer certificate, the protocol), or null without TLS.
    [[nodiscard]] SSL* ssl() noexcept;

private:
    using Stream = std::variant<tcp::socket, tls_stream, unix_socket>;
    static Deadline deadline_for(Stream& stream);

    Stream stream_;
    Deadline deadline_;  // after stream_: it points to its socket
};

}  // namespace giosg::net
