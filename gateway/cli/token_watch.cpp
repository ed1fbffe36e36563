#include "cli/token_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "net/io.hpp"

namespace giosg::cli {

namespace asio = boost::asio;

namespace {
// A folder's entries created, renamed in or out, deleted, or a file in it closed after writing.
constexpr std::uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;
}  // namespace

TokenWatch::TokenWatch(asio::io_context& ioc, LiveConfig& live)
    : live_(live), inotify_(ioc), periodic_(ioc), settle_(ioc) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        spdlog::warn("inotify unavailable ({}); token files are checked every {} s", std::strerror(errno),
                     kPeriod.count());
        return;
    }
    inotify_.assign(fd);
}

TokenWatch::~TokenWatch() { stop(); }

void TokenWatch::start() {
    rewatch();
    read_events();
    schedule_check(std::chrono::duration_cast<std::chrono::milliseconds>(kPeriod));
}

void TokenWatch::rewatch() {
    if (!inotify_.is_open()) return;
    for (const int wd : watches_) ::inotify_rm_watch(inotify_.native_handle(), wd);
    watches_.clear();
    for (const auto& folder : live_.token_folders()) {
        const int wd = ::inotify_add_watch(inotify_.native_handle(), folder.c_str(), kEvents);
        if (wd < 0) {
            spdlog::warn("cannot watch {} ({}); its token files are checked every {} s", folder.string(),
                         std::strerror(errno), kPeriod.count());
            continue;
        }
        watches_.push_back(wd);
    }
}

void TokenWatch::read_events() {
    if (!inotify_.is_open() || stopped_) return;
    inotify_.async_read_some(asio::buffer(events_), [this](const net::error_code& ec, std::size_t) {
        if (ec) {
            if (ec != asio::error::operation_aborted) spdlog::warn("token file watch stopped: {}", ec.message());
            return;
        }
        // Which file changed does not matter: the check reads every token file.
        if (!settle_pending_) {
            settle_pending_ = true;
            settle_.expires_after(kSettle);
            settle_.async_wait([this](const net::error_code& wec) {
                settle_pending_ = false;
                if (!wec && !stopped_) live_.check_token_files();
            });
        }
        read_events();
    });
}

void TokenWatch::schedule_check(std::chrono::milliseconds after) {
    periodic_.expires_after(after);
    periodic_.async_wait([this](const net::error_code& ec) {
        if (ec || stopped_) return;
        live_.check_token_files();
        schedule_check(std::chrono::duration_cast<std::chrono::milliseconds>(kPeriod));
    });
}

void TokenWatch::stop() {
    if (stopped_) return;
    stopped_ = true;
    net::error_code ignored;
    periodic_.cancel();
    settle_.cancel();
    if (inotify_.is_open()) inotify_.close(ignored);
}

}  // namespace giosg::cli
