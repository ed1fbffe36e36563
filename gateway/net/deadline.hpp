#pragma once
// A deadline for the I/O of one socket, shared by the client side (server/) and the upstream side
// (upstream/).
//
// Re-arming is the common case (several times per request) and expiry the rare one, so re-arming
// costs a clock read and a comparison: the timer is reset only when the new deadline is *earlier*
// than the time the timer is already set for. When the timer fires before the current deadline
// (the deadline was moved later meanwhile) it is simply set again. beast::tcp_stream, by contrast,
// starts and cancels a timer wait around every read and write (two handler allocations and an
// extra completion each), and a timer waited on by a coroutine would wake it at every re-arm.
//
// The timer and its state live in a block shared with the pending wait's handler, so a handler
// that runs after its Deadline is gone finds the socket detached and does nothing.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>

namespace giosg::net {

class Deadline {
public:
    using Clock = std::chrono::steady_clock;
    /// What an expired deadline does to the socket's pending operations: `cancel` them (they
    /// fail with operation_aborted, the socket stays usable, e.g. to answer 408), or `close` it.
    enum class OnExpiry : std::uint8_t { cancel, close };

    /// `socket` is any Asio socket (TCP, unix); for a TLS stream, the socket beneath it.
    template <typename Socket>
    Deadline(const boost::asio::any_io_executor& executor, Socket& socket, OnExpiry action)
        : Deadline(executor, &socket, &act_on<Socket>, action) {}
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    /// Deadline for the operations pending or started from now on (until the next call).
    void expires_after(std::chrono::milliseconds timeout);
    /// No deadline (a connection parked in a pool).
    void clear() noexcept;
    /// The deadline passed since the last expires_after(): the failure of an operation is a timeout.
    [[nodiscard]] bool expired() const noexcept { return state_->expired; }
    /// What an operation that ended with `ec` failed of: beast::error::timeout when it failed
    /// after the deadline passed (the cancel or close made it fail), else `ec` itself.
    [[nodiscard]] boost::system::error_code outcome(const boost::system::error_code& ec) const noexcept {
        return ec && expired() ? boost::system::error_code(boost::beast::error::timeout) : ec;
    }
    /// Stops the timer (on close, so that a closed connection holds no pending wait).
    void cancel() noexcept;

private:
    using Action = void (*)(void* socket, OnExpiry action) noexcept;
    Deadline(const boost::asio::any_io_executor& executor, void* socket, Action act, OnExpiry action);
    template <typename Socket>
    static void act_on(void* socket, OnExpiry action) noexcept {
        boost::system::error_code ignored;
        auto& s = *static_cast<Socket*>(socket);
        if (action == OnExpiry::cancel) s.cancel(ignored);
        else s.close(ignored);
    }

    struct State {
        explicit State(const boost::asio::any_io_executor& executor) : timer(executor) {}
        boost::asio::steady_timer timer;
        Clock::time_point at = Clock::time_point::max();
        void* socket = nullptr;  // null once the Deadline is gone
        Action act = nullptr;
        OnExpiry action = OnExpiry::cancel;
        bool armed = false;    // a wait is pending for timer.expiry()
        bool expired = false;
    };
    static void arm(const std::shared_ptr<State>& state);
    static void fired(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
};

}  // namespace giosg::net
