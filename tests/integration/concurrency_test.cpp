// Several workers, several client threads, a policy swap and a stop while traffic runs: the
// cases ThreadSanitizer is pointed at in CI (.ci/run).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness.hpp"
#include "policy/catalogue.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;

std::string get_request(std::string_view target, std::string_view key, std::string_view id) {
    std::string r = "GET ";
    r.append(target).append(" HTTP/1.1\r\nHost: gw\r\nAuthorization: Token ").append(key);
    r.append("\r\nX-Request-Id: ").append(id).append("\r\n\r\n");
    return r;
}

TEST(MultiWorker, ConcurrentKeepAliveClientsAreAllAnsweredCorrectlyAndAudited) {
    HarnessOptions options;
    options.workers = 2;
    options.policy_source = "file";
    Harness h(options);
    constexpr int kThreads = 4;
    constexpr int kRequests = 40;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            RawConnection c(h.port());
            for (int i = 0; i < kRequests; ++i) {
                const bool allowed = i % 2 == 0;
                const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
                c.send(get_request(allowed ? "/api/v5/users/me" : "/api/v5/nope", kKeyFull, id));
                const auto r = c.read_response(5s);
                if (!r || r->status != (allowed ? 200 : 404) || r->header("X-Request-Id") != id) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const auto records = h.audit_records(kThreads * kRequests);
    EXPECT_EQ(records.size(), static_cast<std::size_t>(kThreads * kRequests));
    EXPECT_EQ(h.mock().request_count(), static_cast<std::size_t>(kThreads * kRequests / 2));
}

TEST(MultiWorker, PolicyPublishedDuringTrafficTakesEffectOnEveryWorker) {
    HarnessOptions options;
    options.workers = 2;
    options.policy_source = "file";
    Harness h(options);
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::thread traffic([&] {
        while (!stop) {
            const auto r = request(h.port(), "GET", "/api/v5/languages", {auth(kKeyFull)});
            if (r.status != 200 && r.status != 404) ++bad;
        }
    });
    // New table without /api/v5/languages.
    std::vector<CatalogueEntry> entries = h.policy().entries;
    std::erase_if(entries, [](const CatalogueEntry& e) { return e.url_pattern == "/api/v5/languages"; });
    std::this_thread::sleep_for(50ms);
    h.server().publish(with_policy(*h.snapshot(), PolicyTable::compile(entries), "test"));
    std::this_thread::sleep_for(50ms);
    stop = true;
    traffic.join();
    EXPECT_EQ(bad.load(), 0);
    // Fresh connections land on either worker (SO_REUSEPORT): all must see the new table.
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(request(h.port(), "GET", "/api/v5/languages", {auth(kKeyFull)}).status, 404);
    EXPECT_EQ(request(h.port(), "GET", "/api/v5/timezones", {auth(kKeyFull)}).status, 200);
}

TEST(MultiWorker, StopWhileClientsAreSendingLeavesOnlyWholeAuditRecords) {
    HarnessOptions options;
    options.workers = 2;
    options.policy_source = "file";
    Harness h(options);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            int i = 0;
            while (!stop) {
                try {
                    RawConnection c(h.port());
                    c.send(get_request("/api/v5/users/me", kKeyReports, "s" + std::to_string(t) + "-" + std::to_string(i++)));
                    (void)c.read_response(2s);
                } catch (const std::exception&) {
                    // connection refused once the listener is gone: expected during stop
                }
            }
        });
    }
    std::this_thread::sleep_for(150ms);
    h.stop();
    stop = true;
    for (auto& th : threads) th.join();
    const auto text = h.audit_text();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');  // no torn last line: stop flushed whole records only
    const auto records = h.audit_records(1, 0ms);  // every line parses (audit_records throws otherwise)
    EXPECT_GE(records.size(), 1u);
}

}  // namespace
}  // namespace giosg::testing
