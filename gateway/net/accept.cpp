#include "net/accept.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

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
