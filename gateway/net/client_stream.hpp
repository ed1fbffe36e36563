#pragma once
// The client side of a connection, with the read_some/write shape BodyReader expects.
//
// An expired deadline *cancels* the pending operation instead of closing the socket, as
// beast::tcp_stream would: after a slow request head the gateway must still be able to answer
// 408 on the same connection.
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

#include "net/deadline.hpp"
#include "net/io.hpp"

namespace giosg::net {

using tcp = asio::ip::tcp;

class ClientStream {
public:
    explicit ClientStream(tcp::socket socket);
    /// A read that the deadline cut short fails with beast::error::timeout.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
    /// Writes a, b and c in one gather write (empty ones are skipped).
    asio::awaitable<void> write(error_code& ec, asio::const_buffer a, asio::const_buffer b = {},
                                asio::const_buffer c = {});
    /// Deadline for the operations started from now on (until the next call).
    void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
    void close() noexcept;
    tcp::socket& socket() noexcept { return socket_; }

private:
    tcp::socket socket_;
    Deadline deadline_;  // after socket_: it points to it
};

}  // namespace giosg::net
