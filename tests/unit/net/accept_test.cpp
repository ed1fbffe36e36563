// net::AcceptBackoff against a real EMFILE: with the descriptor limit reached, accept() fails at
// once for as long as a connection waits in the backlog. The loop must pause, not spin.
#include "net/accept.hpp"

#include <fcntl.h>
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "net/io.hpp"

namespace giosg::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Lowers RLIMIT_NOFILE to what is open now (so the next accept gets EMFILE) and restores it.
class NoMoreDescriptors {
public:
    NoMoreDescriptors() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        // A new descriptor takes the lowest free number; with the limit at that number, there is none.
        int lowest_free = 0;
        while (::fcntl(lowest_free, F_GETFD) != -1) ++lowest_free;
        rlimit low = saved_;
        low.rlim_cur = static_cast<rlim_t>(lowest_free);
        ok_ = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
    }
    ~NoMoreDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    [[nodiscard]] bool ok() const noexcept { return ok_; }

private:
    rlimit saved_{};
    bool ok_ = false;
};

TEST(AcceptBackoff, PausesBetweenFailedAcceptsInsteadOfSpinning) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());  // waits in the backlog: accept() is always ready
    AcceptBackoff backoff("test");
    std::optional<boost::system::error_code> first_error;
    std::uint64_t accepted = 0;
    {
        NoMoreDescriptors limit;
        ASSERT_TRUE(limit.ok());
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
                    co_return;
                }
            },
            asio::detached);
        io.run_for(300ms);
    }
    ASSERT_TRUE(first_error.has_value());
    EXPECT_EQ(*first_error, asio::error::no_descriptors) << first_error->message();
    EXPECT_EQ(accepted, 0u);
    // 300 ms of 50 ms pauses: about 6 attempts; a loop without the pause makes thousands.
    EXPECT_GE(backoff.failures(), 2u);
    EXPECT_LE(backoff.failures(), 12u);
    // Once descriptors are free again the waiting connection is accepted.
    io.restart();
    io.run_for(200ms);
    EXPECT_EQ(accepted, 1u);
}

}  // namespace
}  // namespace giosg::net
