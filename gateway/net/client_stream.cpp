#include "net/client_stream.hpp"

#include <boost/asio/write.hpp>

#include <array>

namespace giosg::net {

Deadline ClientStream::deadline_for(Stream& stream) {
    if (auto* local = std::get_if<unix_socket>(&stream))
        return Deadline(local->get_executor(), *local, Deadline::OnExpiry::cancel);
    if (auto* tls = std::get_if<tls_stream>(&stream))
        return Deadline(tls->get_executor(), tls->next_layer(), Deadline::OnExpiry::cancel);
    auto& socket = std::get<tcp::socket>(stream);
    return Deadline(socket.get_executor(), socket, Deadline::OnExpiry::cancel);
}

ClientStream::ClientStream(tcp::socket socket)
    : stream_(std::in_place_type<tcp::socket>, std::move(socket)), deadline_(deadline_for(stream_)) {}

ClientStream::ClientStream(tcp::socket socket, asio::ssl::context& tls)
    : stream_(std::in_place_type<tls_stream>, std::move(socket), tls), deadline_(deadline_for(stream_)) {}

ClientStream::ClientStream(unix_socket socket)
    : stream_(std::in_place_type<unix_socket>, std::move(socket)), deadline_(deadline_for(stream_)) {}

asio::awaitable<error_code> ClientStream::handshake() {
    auto* tls = std::get_if<tls_stream>(&stream_);
    if (tls == nullptr) co_return error_code{};
    auto [e] = co_await tls->async_handshake(asio::ssl::stream_base::server, use_nothrow);
    co_return deadline_.outcome(e);
}

asio::awaitable<void> ClientStream::shutdown_tls() {
    if (auto* tls = std::get_if<tls_stream>(&stream_)) co_await tls->async_shutdown(use_nothrow);
}

asio::awaitable<std::size_t> ClientStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
    auto [e, n] = co_await std::visit([&](auto& s) { return s.async_read_some(buffer, use_nothrow); }, stream_);
    ec = deadline_.outcome(e);
    co_return n;
}

asio::awaitable<void> ClientStream::write(error_code& ec, asio::const_buffer a, asio::const_buffer b,
                                          asio::const_buffer c) {
    const std::array<asio::const_buffer, 3> buffers{a, b, c};
    auto [e, n] = co_await std::visit([&](auto& s) { return asio::async_write(s, buffers, use_nothrow); }, stream_);
    ec = deadline_.outcome(e);
}

tcp::socket ClientStream::release_tcp() noexcept {
    deadline_.cancel();
    return std::move(std::get<tcp::socket>(stream_));
}

tcp::socket* ClientStream::tcp_socket() noexcept {
    if (auto* tls = std::get_if<tls_stream>(&stream_)) return &tls->next_layer();
    return std::get_if<tcp::socket>(&stream_);
}

int ClientStream::native_handle() noexcept {
    if (auto* local = std::get_if<unix_socket>(&stream_)) return local->native_handle();
    return tcp_socket()->native_handle();
}

SSL* ClientStream::ssl() noexcept {
    auto* tls = std::get_if<tls_stream>(&stream_);
    return tls == nullptr ? nullptr : tls->native_handle();
}

void ClientStream::shutdown_send() noexcept {
    error_code ec;
    if (auto* local = local_socket()) local->shutdown(unix_socket::shutdown_send, ec);
    else tcp_socket()->shutdown(tcp::socket::shutdown_send, ec);
}

void ClientStream::close() noexcept {
    error_code ec;
    if (auto* local = local_socket()) {
        local->shutdown(unix_socket::shutdown_both, ec);
        local->close(ec);
    } else {
        tcp_socket()->shutdown(tcp::socket::shutdown_both, ec);
        tcp_socket()->close(ec);
    }
    deadline_.cancel();
}

}  // namespace giosg::net
