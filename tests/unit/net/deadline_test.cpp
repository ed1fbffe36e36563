// net::Deadline on a real loopback TCP connection: a read is left pending (the peer never
// writes) and the deadline decides when, and whether, it ends.
#include "net/deadline.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace giosg::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

class DeadlineTest : public ::testing::Test {
protected:
    DeadlineTest() {
        tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        client_.connect(acceptor.local_endpoint());
        acceptor.accept(peer_);
    }

    /// Starts a read that only an error (a cancel, a close) can end: the peer never writes.
    void start_read() {
        result_.reset();
        client_.async_read_some(asio::buffer(byte_), [this](const boost::system::error_code& ec, std::size_t) {
            result_ = ec;
        });
    }

    /// Runs the loop for `duration`, or until the read ends.
    void run_for(std::chrono::milliseconds duration) {
        const auto until = std::chrono::steady_clock::now() + duration;
        io_.restart();
        while (!result_ && std::chrono::steady_clock::now() < until) {
            io_.run_one_for(10ms);
        }
    }

    asio::io_context io_;
    tcp::socket client_{io_};
    tcp::socket peer_{io_};
    std::array<char, 1> byte_{};
    std::optional<boost::system::error_code> result_;
};

TEST_F(DeadlineTest, CancelLeavesTheSocketOpenAndMarksTheDeadlineExpired) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::cancel);
    deadline.expires_after(30ms);
    start_read();
    run_for(5s);
    ASSERT_TRUE(result_.has_value()) << "the deadline never ended the read";
    EXPECT_EQ(*result_, asio::error::operation_aborted);
    EXPECT_TRUE(deadline.expired());
    EXPECT_EQ(deadline.outcome(*result_), boost::beast::error::timeout);
    EXPECT_TRUE(client_.is_open()) << "cancel must leave the socket usable (e.g. to answer 408)";
}

TEST_F(DeadlineTest, CloseClosesTheSocket) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::close);
    deadline.expires_after(30ms);
    start_read();
    run_for(5s);
    ASSERT_TRUE(result_.has_value());
    EXPECT_TRUE(deadline.expired());
    EXPECT_EQ(deadline.outcome(*result_), boost::beast::error::timeout) << result_->message();
    EXPECT_FALSE(client_.is_open());
}

TEST_F(DeadlineTest, MovingTheDeadlineLaterKeepsTheEarlierTimeFromFiring) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::cancel);
    deadline.expires_after(20ms);
    deadline.expires_after(10s);  // re-armed later: the timer still fires at 20 ms, and re-arms
    start_read();
    run_for(300ms);
    EXPECT_FALSE(result_.has_value()) << "the read ended at the replaced, earlier deadline";
    EXPECT_FALSE(deadline.expired());
    deadline.expires_after(20ms);  // earlier again: this one must fire
    run_for(5s);
    ASSERT_TRUE(result_.has_value());
    EXPECT_TRUE(deadline.expired());
}

TEST_F(DeadlineTest, MovingTheDeadlineEarlierFiresAtTheEarlierTime) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::cancel);
    deadline.expires_after(60s);
    deadline.expires_after(20ms);
    start_read();
    run_for(10s);  // far below the first deadline
    ASSERT_TRUE(result_.has_value()) << "the earlier deadline did not replace the later one";
    EXPECT_TRUE(deadline.expired());
}

TEST_F(DeadlineTest, ClearedDeadlineNeverFires) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::close);
    deadline.expires_after(20ms);
    deadline.clear();
    start_read();
    run_for(300ms);
    EXPECT_FALSE(result_.has_value());
    EXPECT_FALSE(deadline.expired());
    EXPECT_TRUE(client_.is_open());
}

TEST_F(DeadlineTest, ExpiredIsResetByTheNextDeadline) {
    Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::cancel);
    deadline.expires_after(10ms);
    start_read();
    run_for(5s);
    ASSERT_TRUE(deadline.expired());
    deadline.expires_after(10s);
    EXPECT_FALSE(deadline.expired()) << "a new operation's failure must not be taken for a timeout";
    const boost::system::error_code reset = asio::error::connection_reset;
    EXPECT_EQ(deadline.outcome(reset), reset);
    EXPECT_EQ(deadline.outcome({}), boost::system::error_code{}) << "success is never a timeout";
}

TEST_F(DeadlineTest, ADestroyedDeadlineLeavesTheSocketAlone) {
    {
        Deadline deadline(io_.get_executor(), client_, Deadline::OnExpiry::close);
        deadline.expires_after(10ms);
    }
    start_read();
    run_for(200ms);  // the destroyed deadline's wait completes here, and must do nothing
    EXPECT_FALSE(result_.has_value());
    EXPECT_TRUE(client_.is_open());
}

TEST_F(DeadlineTest, ADeadlineDestroyedWhileItsTimerIsDueDoesNothing) {
    auto deadline = std::make_unique<Deadline>(io_.get_executor(), client_, Deadline::OnExpiry::close);
    deadline->expires_after(10ms);
    start_read();
    // Let the timer come due, but destroy the Deadline before its handler may have run.
    std::this_thread::sleep_for(30ms);
    deadline.reset();
    run_for(200ms);
    EXPECT_FALSE(result_.has_value());
    EXPECT_TRUE(client_.is_open());
}

}  // namespace
}  // namespace giosg::net
