// net::AcceptBackoff against an accept that fails at once, again and again, as it does while the
// descriptor limit is reached (EMFILE). The loop must pause, not spin.
//
// The failure comes from a listening socket shut down for reading: the kernel then fails every
// accept with EINVAL. Exhausting RLIMIT_NOFILE instead would be closer to life, but the
// sanitizers' runtimes need descriptors of their own (UBSan's vptr check opens a pipe) and report
// false errors when there are none.
#include "net/accept.hpp"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "net/io.hpp"

namespace giosg::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

TEST(AcceptBackoff, PausesBetweenFailedAcceptsInsteadOfSpinning) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_EQ(::shutdown(acceptor.native_handle(), SHUT_RD), 0);
    // Capture the log: one line a second at most, however often accept fails.
    std::ostringstream log;
    const auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
    AcceptBackoff backoff("test");
    std::optional<boost::system::error_code> first_error;
    std::uint64_t accepted = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
                if (ec == asio::error::operation_aborted) co_return;
                if (ec) {
                    if (!first_error) first_error = ec;
                    co_await backoff.after_error(ec);
                    continue;
                }
                ++accepted;
            }
        },
        asio::detached);
    io.run_for(300ms);
    spdlog::set_default_logger(previous);
    ASSERT_TRUE(first_error.has_value()) << "accept did not fail";
    EXPECT_EQ(accepted, 0u);
    // 300 ms of 50 ms pauses: about 6 attempts; a loop without the pause makes thousands.
    EXPECT_GE(backoff.failures(), 2u) << first_error->message();
    EXPECT_LE(backoff.failures(), 12u) << first_error->message();
    std::size_t lines = 0;
    for (std::size_t at = 0; (at = log.str().find("test: accept failed", at)) != std::string::npos; ++at) ++lines;
    EXPECT_EQ(lines, 1u) << log.str();
}

}  // namespace
}  // namespace giosg::net
