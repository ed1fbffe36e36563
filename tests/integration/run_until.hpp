#pragma once
// The test clients (RawConnection, TlsConnection) drive their own io_context: run it until the
// awaited operation is done or the timeout passes, then cancel what is left and let the
// cancelled handlers run, so that nothing outlives the call.
//
// A timer bounds the wait, not io_context::run_for: with Asio 1.81's io_uring backend
// (GIOSG_IO_URING builds), calling run_for again after it returned on its timeout while a socket
// read was in flight sometimes ends that read with a false end of stream (a standalone client
// doing so saw 7 of 30 large responses cut short; one driven by a timer and run_one, none).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace giosg::testing {

namespace detail {

// Runs handlers one at a time until `done` or `timeout`; returns with the timer's handler run.
inline void run_until(boost::asio::io_context& ioc, std::chrono::milliseconds timeout, const bool& done) {
    ioc.restart();
    bool expired = false;
    bool timer_ran = false;
    boost::asio::steady_timer timer(ioc, timeout);
    timer.async_wait([&](const boost::system::error_code& ec) {
        expired = !ec;
        timer_ran = true;
    });
    while (!done && !expired) {
        if (ioc.run_one() == 0) ioc.restart();  // stopped by a handler: go on
    }
    timer.cancel();
    while (!timer_ran) {
        if (ioc.run_one() == 0) ioc.restart();
    }
}

}  // namespace detail

template <class Cancel>
void run_until_done(boost::asio::io_context& ioc, std::chrono::milliseconds timeout, const bool& done, Cancel cancel) {
    detail::run_until(ioc, timeout, done);
    if (!done) {
        cancel();
        detail::run_until(ioc, std::chrono::milliseconds(100), done);  // let the cancelled handler run
    }
}

}  // namespace giosg::testing
