#include "net/client_stream.hpp"

#include <boost/asio/write.hpp>

#include <array>

namespace giosg::net {

ClientStream::ClientStream(tcp::socket socket)
    : socket_(std::move(socket)), deadline_(socket_.get_executor(), socket_, Deadline::OnExpiry::cancel) {}

asio::awaitable<std::size_t> ClientStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
    auto [e, n] = co_await socket_.async_read_some(buffer, use_nothrow);
    ec = deadline_.outcome(e);
    co_return n;
}

asio::awaitable<void> ClientStream::write(error_code& ec, asio::const_buffer a, asio::const_buffer b,
                                          asio::const_buffer c) {
    const std::array<asio::const_buffer, 3> buffers{a, b, c};
    auto [e, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
    ec = deadline_.outcome(e);
}

void ClientStream::close() noexcept {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
}

}  // namespace giosg::net
