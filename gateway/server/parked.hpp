#pragma once
// Keep-alive connections that have sent nothing for a while, held without a session: no
// coroutine frames, no buffers, only the socket and its address (docs/architecture.md §1
// "Idle connections"). A broker in front of many services holds thousands of these; a session
// costs about 7 KiB, a parked connection at most 1.3 KiB of live heap (bench/README.md).
//
// Each parked socket waits for readability (a request, or the client's FIN), which starts a
// new session on it. One timer per worker ends the ones idle past their deadline, oldest
// first, instead of a timer per connection.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace giosg::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Worker;

class ParkedConnections {
public:
    using Clock = std::chrono::steady_clock;

    explicit ParkedConnections(Worker& worker);
    ~ParkedConnections();
    ParkedConnections(const ParkedConnections&) = delete;
    ParkedConnections& operator=(const ParkedConnections&) = delete;

    /// Holds `socket` (plain TCP, nothing buffered) until it turns readable, then hands it to a
    /// new session; closes it at `idle_until` or on close_all().
    void park(tcp::socket socket, std::string remote, Clock::time_point idle_until);
    /// Closes every parked connection (draining); each counts as closed.
    std::size_t close_all() noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    struct Entry;
    void link(Entry& entry);
    void unlink(Entry& entry) noexcept;
    void close(Entry& entry) noexcept;
    void arm_sweep();
    void sweep();
    void wake(Entry& entry, const boost::system::error_code& ec);

    Worker& worker_;
    asio::steady_timer sweep_timer_;
    Clock::time_point sweep_at_ = Clock::time_point::max();  // when the timer is set; max: not set
    // Oldest first. The wait handler owns each entry; the list only points to them.
    Entry* head_ = nullptr;
    Entry* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace giosg::server
