#pragma once
// What an accept loop does after a failed accept: EMFILE, ENFILE, ENOBUFS and the like last
// until connections close, and accept() fails again at once, so a loop that simply retries
// spins a CPU and floods the log.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace giosg::net {

/// The address to listen on: `host` as an IP literal, or a name such as "localhost" resolved
/// once (at start-up, before any worker runs). Throws std::runtime_error starting with
/// `setting` (the config's JSON path) when the name does not resolve.
boost::asio::ip::tcp::endpoint listen_endpoint(const std::string& host, std::uint16_t port, std::string_view setting);

/// Opens `acceptor` on `endpoint` (SO_REUSEADDR; SO_REUSEPORT and IPV6_V6ONLY when asked), binds
/// and listens. Throws std::runtime_error "SETTING: cannot listen on ADDRESS:PORT: WHY".
void open_listener(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint,
                   bool reuse_port, bool v6_only, std::string_view setting);

class AcceptBackoff {
public:
    static constexpr std::chrono::milliseconds kPause{50};

    /// `who` names the listener in the log ("worker 3", "admin").
    explicit AcceptBackoff(std::string who) : who_(std::move(who)) {}

    /// Logs the failure (at most one line a second, counting those left out) and waits kPause
    /// on the calling coroutine's executor.
    boost::asio::awaitable<void> after_error(const boost::system::error_code& ec);

    [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }

private:
    std::string who_;
    std::chrono::steady_clock::time_point last_log_{};
    std::uint64_t failures_ = 0;
    std::uint64_t unlogged_ = 0;
};

}  // namespace giosg::net
