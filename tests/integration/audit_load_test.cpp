// The audit trail under load with a stalled sink (docs/audit.md "Under load"): the audit path is a
// real FIFO whose reader stops reading, so the writer blocks in write(2) and the bounded queue
// fills. Under on_failure "deny" no request is forwarded without room for its record; requests
// then wait at most audit.queue_wait_ms (the worker serving others meanwhile) and get 503
// audit_unavailable; /readyz says audit_backlog; once the pipe is read again everything is written,
// chained, with one backlog record for the 503s. Under "allow" requests go on and a gap record
// counts the records that found no room. All on 127.0.0.1, every wait bounded.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin.hpp"
#include "admin/metrics.hpp"
#include "admin/readiness.hpp"
#include "audit/chain.hpp"
#include "audit/writer.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr int kMaxRequests = 400;  // bound: the queue (16 KiB) holds far fewer records

/// A temporary folder, removed at the end of the test (declared first, so removed last).
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& prefix) : path(make_temp_dir(prefix)) {}
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

/// The read end of a FIFO with the smallest pipe buffer, read only while draining.
class StalledPipe {
public:
    explicit StalledPipe(const fs::path& path) {
        if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
        fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open the FIFO");
        (void)::fcntl(fd_, F_SETPIPE_SZ, 4096);  // one page: the writer blocks after a few records
    }
    ~StalledPipe() {
        stop_draining();
        ::close(fd_);
    }
    /// Reads everything from now on, on a thread of its own.
    void drain() {
        draining_ = true;
        reader_ = std::thread([this] {
            char buffer[65536];
            while (draining_) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 20) <= 0) continue;
                read_available(buffer, sizeof buffer);
            }
            read_available(buffer, sizeof buffer);  // what came just before the stop
        });
    }
    void stop_draining() {
        draining_ = false;
        if (reader_.joinable()) reader_.join();
    }
    std::string text() {
        std::lock_guard lock(mutex_);
        return text_;
    }

private:
    void read_available(char* buffer, std::size_t size) {
        for (;;) {
            const auto n = ::read(fd_, buffer, size);
            if (n <= 0) return;
            std::lock_guard lock(mutex_);
            text_.append(buffer, static_cast<std::size_t>(n));
        }
    }

    int fd_ = -1;
    std::atomic<bool> draining_{false};
    std::thread reader_;
    std::mutex mutex_;
    std::string text_;
};

HarnessOptions stalled_options(const fs::path& fifo, const std::string& on_failure) {
    HarnessOptions o;
    o.policy_source = "file";
    o.audit_path = fifo.string();
    o.audit_json = R"("queue_bytes": 16384, "queue_wait_ms": 100, "on_failure": ")" + on_failure + "\"";
    o.upstream_json = R"("connect_timeout_ms": 300, "timeout_ms": 3000)";
    return o;
}

Response get(std::uint16_t port, const std::string& id) {
    return request(port, "GET", kUsersMe, {auth(kKeyFull), {"X-Request-Id", id}});
}

/// The chain of `text` checked line by line; the parsed records.
std::vector<json::object> chained(const std::string& text) {
    std::vector<json::object> records;
    audit::ChainState chain;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            ADD_FAILURE() << "torn line: " << text.substr(start);
            break;
        }
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        const auto split = audit::split_chained_line(line);
        if (!split) {
            ADD_FAILURE() << "not a chained line: " << line;
            continue;
        }
        EXPECT_EQ(split->seq, chain.seq + 1);
        EXPECT_EQ(split->prev, chain.last_hash_view());
        chain.seq = split->seq;
        chain.last_hash = audit::compute_hash(*split);
        EXPECT_EQ(split->hash, chain.last_hash_view());
        records.push_back(json::parse(line).as_object());
    }
    return records;
}

std::string kind_of(const json::object& record) {
    return record.contains("kind") ? std::string(record.at("kind").as_string()) : "request";
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    for (const auto give_up = Clock::now() + timeout; Clock::now() < give_up; std::this_thread::sleep_for(5ms))
        if (condition()) return true;
    return condition();
}

TEST(AuditUnderLoad, StalledPipeWithDenyRefusesAfterTheWaitForwardsNothingUnrecordedAndRecovers) {
    const TempDir temp("audit-load-deny");
    const fs::path& dir = temp.path;
    StalledPipe pipe(dir / "audit.pipe");
    Harness h(stalled_options(dir / "audit.pipe", "deny"));
    Metrics admin_metrics({}, 1);
    Readiness readiness;  // as serve sets it up: loaded, audit required, not draining
    readiness.attach_audit(&h.audit());
    readiness.set_policy_loaded(true);
    readiness.set_credentials_loaded(true);
    AdminHooks hooks;
    hooks.not_ready = [&readiness] { return readiness.reasons(); };
    AdminServer admin(HostPort{"127.0.0.1", 0}, admin_metrics, std::move(hooks));
    admin.start();
    EXPECT_EQ(request(admin.port(), "GET", "/readyz").status, 200);

    // Load until the queue is full: the pipe takes a few records, the ring the next few dozen.
    int answered = 0;
    int refused = 0;
    for (int i = 0; i < kMaxRequests && refused == 0; ++i) {
        const auto started = Clock::now();
        const auto r = get(h.port(), "stall-" + std::to_string(i));
        if (r.status == 200) {
            ++answered;
            continue;
        }
        ASSERT_EQ(r.status, 503) << r.body;
        EXPECT_EQ(r.json().at("code").as_string(), "audit_unavailable");
        EXPECT_GE(Clock::now() - started, 90ms) << "refused before audit.queue_wait_ms";
        ++refused;
    }
    ASSERT_EQ(refused, 1) << "the queue never filled";
    EXPECT_GT(answered, 0);
    const auto not_ready = request(admin.port(), "GET", "/readyz");
    EXPECT_EQ(not_ready.status, 503);
    EXPECT_NE(not_ready.body.find("audit_backlog"), std::string::npos) << not_ready.body;

    // The wait is asynchronous: with one worker, ten clients waiting at once are all answered
    // after about one wait, not ten in a row (1 s).
    const auto together = Clock::now();
    std::vector<std::future<Response>> waiting;
    for (int i = 0; i < 10; ++i)
        waiting.push_back(std::async(std::launch::async, [&h, i] { return get(h.port(), "together-" + std::to_string(i)); }));
    for (auto& w : waiting) {
        EXPECT_EQ(w.get().status, 503);
        ++refused;
    }
    EXPECT_LT(Clock::now() - together, 900ms);
    // Nothing reached the upstream without its record queued.
    EXPECT_EQ(h.mock().request_count(), static_cast<std::size_t>(answered));
    EXPECT_EQ(h.audit().dropped(), 0u);

    // Read the pipe again: everything queued is written, readiness comes back, requests pass.
    pipe.drain();
    ASSERT_TRUE(eventually([&] { return request(admin.port(), "GET", "/readyz").status == 200; }));
    const auto after = get(h.port(), "after-drain");
    EXPECT_EQ(after.status, 200);
    ++answered;
    ASSERT_TRUE(eventually([&] { return h.audit().queued_records() == 0 && h.audit().lines_written() >= 1; }));
    admin.stop();
    h.stop();
    pipe.stop_draining();

    const auto records = chained(pipe.text());
    int request_records = 0;
    std::int64_t backlog_refused = 0;
    for (const auto& r : records) {
        const auto kind = kind_of(r);
        EXPECT_NE(kind, "gap") << "a record was dropped under deny";
        if (kind == "request") {
            ++request_records;
            EXPECT_EQ(r.at("status").as_int64(), 200);
        }
        if (kind == "backlog") {
            backlog_refused += r.at("refused").as_int64();
            EXPECT_TRUE(r.at("from").is_string());
            EXPECT_TRUE(r.at("to").is_string());
        }
    }
    EXPECT_EQ(request_records, answered);
    EXPECT_EQ(h.mock().request_count(), static_cast<std::size_t>(answered));
    EXPECT_EQ(backlog_refused, refused);
    EXPECT_EQ(h.audit().queue_refused(), static_cast<std::uint64_t>(refused));
    EXPECT_GE(h.audit().queue_waits(), static_cast<std::uint64_t>(refused));
    admin_metrics.attach_audit(&h.audit());
    const std::string metrics = admin_metrics.render();
    EXPECT_NE(metrics.find("\ngiosg_gateway_audit_queue_refused_total " + std::to_string(refused) + "\n"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("\ngiosg_gateway_audit_queue_records 0\n"), std::string::npos);
    EXPECT_NE(metrics.find("\ngiosg_gateway_audit_queue_bytes_limit 16384\n"), std::string::npos);
    EXPECT_NE(metrics.find("\ngiosg_gateway_audit_dropped_total 0\n"), std::string::npos);
}

TEST(AuditUnderLoad, StalledPipeWithAllowForwardsEverythingAndAGapRecordCountsWhatFoundNoRoom) {
    const TempDir temp("audit-load-allow");
    const fs::path& dir = temp.path;
    StalledPipe pipe(dir / "audit.pipe");
    Harness h(stalled_options(dir / "audit.pipe", "allow"));
    constexpr int kRequests = 150;
    for (int i = 0; i < kRequests; ++i) ASSERT_EQ(get(h.port(), "allow-" + std::to_string(i)).status, 200);
    EXPECT_GT(h.audit().dropped(), 0u) << "the queue never filled";
    EXPECT_EQ(h.audit().queue_waits(), 0u) << "allow never waits for room";
    pipe.drain();
    ASSERT_TRUE(eventually([&] { return h.audit().queued_records() == 0; }));
    h.stop();
    pipe.stop_draining();

    const auto records = chained(pipe.text());
    int request_records = 0;
    std::int64_t dropped = 0;
    for (const auto& r : records) {
        const auto kind = kind_of(r);
        if (kind == "request") ++request_records;
        if (kind == "gap") dropped += r.at("dropped").as_int64();
    }
    EXPECT_EQ(h.mock().request_count(), static_cast<std::size_t>(kRequests));
    EXPECT_EQ(request_records + dropped, kRequests);
    EXPECT_EQ(dropped, static_cast<std::int64_t>(h.audit().dropped()));
}

}  // namespace
}  // namespace giosg::testing
