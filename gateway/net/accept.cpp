#include "net/accept.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/io.hpp"

namespace giosg::net {

asio::ip::tcp::endpoint listen_endpoint(const std::string& host, std::uint16_t port, std::string_view setting) {
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) return {address, port};
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty())
        throw std::runtime_error(std::string(setting) + ": cannot resolve " + host + ": " +
                                 (ec ? ec.message() : std::string("no address")));
    return *results.begin();
}

namespace {
// Error codes, not exceptions: Asio throws boost::system::system_error, which a caller catching
// std::system_error (as this code once did) would miss.
error_code try_open_listener(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                             bool reuse_port, bool v6_only) noexcept {
    error_code ec;
    if (acceptor.open(endpoint.protocol(), ec); ec) return ec;
    if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return ec;
    int one = 1;
    if (reuse_port && ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return {errno, boost::system::system_category()};
    if (v6_only) {
        if (acceptor.set_option(asio::ip::v6_only(true), ec); ec) return ec;
    }
    if (acceptor.bind(endpoint, ec); ec) return ec;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
}
}  // namespace

void open_listener(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint, bool reuse_port,
                   bool v6_only, std::string_view setting) {
    if (const auto ec = try_open_listener(acceptor, endpoint, reuse_port, v6_only))
        throw std::runtime_error(std::string(setting) + ": cannot listen on " + endpoint.address().to_string() + ":" +
                                 std::to_string(endpoint.port()) + ": " + ec.message());
}

asio::awaitable<void> AcceptBackoff::after_error(const error_code& ec) {
    ++failures_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log_ >= std::chrono::seconds(1)) {
        if (unlogged_ > 0)
            spdlog::warn("{}: accept failed: {} ({} more failures since the last message)", who_, ec.message(),
                         unlogged_);
        else
            spdlog::warn("{}: accept failed: {}", who_, ec.message());
        last_log_ = now;
        unlogged_ = 0;
    } else {
        ++unlogged_;
    }
    asio::steady_timer pause(co_await asio::this_coro::executor, kPause);
    co_await pause.async_wait(use_nothrow);
}

}  // namespace giosg::net
