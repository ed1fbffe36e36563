#pragma once
// The test clients (RawConnection, TlsConnection) drive their own io_context: run it until the
// awaited operation is done or the timeout passes, then cancel what is left and let the
// cancelled handlers run, so that nothing outlives the call.
#include <boost/asio/io_context.hpp>

#include <chrono>

namespace giosg::testing {

template <class Cancel>
void run_until_done(boost::asio::io_context& ioc, std::chrono::milliseconds timeout, const bool& done, Cancel cancel) {
    ioc.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        ioc.run_for(std::chrono::milliseconds(5));
        if (ioc.stopped()) ioc.restart();
    }
    if (!done) {
        cancel();
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(100));  // let the cancelled handler run
    }
}

}  // namespace giosg::testing
