#pragma once
// Watches the folders of the configured token files (docs/reference.md §5 "Token files"):
// inotify on each folder, so that Kubernetes' update of a mounted secret (a new folder, then a
// rename of the "..data" symlink) counts as well as an edit in place; and a periodic check as
// the fallback for file systems without inotify events. Either one makes LiveConfig re-read
// the token files; a changed token is used within 5 s.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <vector>

#include "cli/live_config.hpp"

namespace giosg::cli {

class TokenWatch {
public:
    static constexpr std::chrono::seconds kPeriod{2};
    /// After an event, wait this long for the writer to finish before reading.
    static constexpr std::chrono::milliseconds kSettle{100};

    TokenWatch(boost::asio::io_context& ioc, LiveConfig& live);
    ~TokenWatch();
    TokenWatch(const TokenWatch&) = delete;
    TokenWatch& operator=(const TokenWatch&) = delete;

    void start();
    /// Watches the current config's folders (after a reload).
    void rewatch();
    void stop();

private:
    void read_events();
    void schedule_check(std::chrono::milliseconds after);

    LiveConfig& live_;
    boost::asio::posix::stream_descriptor inotify_;
    std::vector<int> watches_;
    boost::asio::steady_timer periodic_;
    boost::asio::steady_timer settle_;
    bool settle_pending_ = false;
    std::array<char, 4096> events_{};
    bool stopped_ = false;
};

}  // namespace giosg::cli
