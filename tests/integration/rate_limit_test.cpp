// docs/reference.md "Rate limits" through the real server with the local store: a client's
// rate and in-flight cap, a credential's budget shared by its clients, one rate across workers,
// and the hold after giosg's own 429. Nothing refused reaches the mock; every refusal is audited
// and counted.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "admin/metrics.hpp"
#include "common/sha256.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr const char* kLimitedKey = "limited-client-key-5d1f0c2b9e";

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string str(const json::object& record, std::string_view key) {
    const auto* v = record.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<none>");
}

/// A client "limited" (key kLimitedKey) with the given extra members, e.g. a rate.
HarnessOptions limited_client(std::string_view members, unsigned workers = 1) {
    HarnessOptions o;
    o.policy_source = "file";  // a live catalogue fetch would spend the credential's budget
    o.workers = workers;
    o.clients_json = R"(    "limited": {"key_sha256": ")" + format_key_digest(sha256(kLimitedKey)) +
                     R"(", "credential": "giosg", "scopes": ["users"], "organizations": ["*"], )" +
                     std::string(members) + "},";
    return o;
}

std::size_t count_status(const std::vector<Response>& responses, int status) {
    std::size_t n = 0;
    for (const auto& r : responses) n += r.status == status ? 1 : 0;
    return n;
}

TEST(RateLimits, ClientOverItsBurstGets429WithRetryAfterAndRateLimitFields) {
    Harness h(limited_client(R"("rate": {"per_s": 0.5, "burst": 3})"));
    for (int i = 0; i < 3; ++i) {
        const auto ok = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
        ASSERT_EQ(ok.status, 200) << ok.body;
    }
    const auto refused = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(json::value_to<std::string>(refused.json().at("code")), "rate_limited");
    EXPECT_EQ(refused.header("Retry-After"), "2");  // one request every 2 s
    EXPECT_EQ(refused.header("RateLimit-Policy"), "\"client\";q=3;w=6");
    EXPECT_EQ(refused.header("RateLimit"), "\"client\";r=0;t=2");
    EXPECT_TRUE(refused.header("X-Request-Id").has_value());
    EXPECT_EQ(h.mock().request_count(), 3U);  // nothing forwarded

    // Another client has its own bucket.
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);

    const auto records = h.audit_records(5);
    ASSERT_EQ(records.size(), 5U);
    EXPECT_EQ(str(records[3], "code"), "rate_limited");
    EXPECT_EQ(str(records[3], "limit"), "client_rate");
    EXPECT_EQ(str(records[3], "decision"), "deny");
    EXPECT_EQ(records[3].at("status"), json::value(429));
    EXPECT_EQ(records[3].at("upstream_status"), json::value(nullptr));
    EXPECT_FALSE(records[2].contains("limit"));
    const std::string metrics = h.metrics().render();
    EXPECT_TRUE(contains(metrics, "giosg_gateway_rate_limited_total{client=\"limited\",limit=\"client_rate\"} 1\n"))
        << metrics;
    EXPECT_TRUE(contains(metrics, "giosg_gateway_requests_total{client=\"limited\",code=\"rate_limited\",method=\"GET\"} 1\n"));
}

TEST(RateLimits, OneRateAcrossWorkersNotOnePerWorker) {
    // Four workers, forty fresh connections spread over them by the kernel: the burst of ten is
    // admitted once in total (the refill of one per 1000 s adds nothing during the test).
    Harness h(limited_client(R"("rate": {"per_s": 0.001, "burst": 10})", 4));
    std::vector<std::future<Response>> pending;
    for (int i = 0; i < 40; ++i)
        pending.push_back(std::async(std::launch::async, [&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}); }));
    std::vector<Response> responses;
    for (auto& f : pending) responses.push_back(f.get());
    EXPECT_EQ(count_status(responses, 200), 10U);
    EXPECT_EQ(count_status(responses, 429), 30U);
    EXPECT_EQ(h.mock().request_count(), 10U);
}

TEST(RateLimits, CredentialBudgetIsSharedByAllItsClients) {
    HarnessOptions options = limited_client(R"("rate": {"per_s": 100, "burst": 100})");
    options.credential_json = R"("rate": {"per_s": 0.001, "burst": 2})";
    Harness h(options);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 200);
    const auto refused = request(h.port(), "GET", kUsersMe, {auth(kKeyFull)});
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.header("RateLimit-Policy"), "\"credential\";q=2;w=2000");
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 429);
    EXPECT_EQ(h.mock().request_count(), 2U);
    const auto records = h.audit_records(4);
    ASSERT_EQ(records.size(), 4U);
    EXPECT_EQ(str(records[2], "limit"), "credential_rate");
    EXPECT_EQ(str(records[3], "limit"), "credential_rate");
    const std::string metrics = h.metrics().render();
    EXPECT_TRUE(contains(metrics, "giosg_gateway_rate_limited_total{client=\"full\",limit=\"credential_rate\"} 1\n"));
    EXPECT_TRUE(contains(metrics, "giosg_gateway_rate_limited_total{client=\"limited\",limit=\"credential_rate\"} 1\n"));
}

TEST(RateLimits, InFlightCapRefusesWithRetryAfterOneAndFreesWhenTheRequestEnds) {
    Harness h(limited_client(R"("max_in_flight": 1)", 2));
    RawConnection slow(h.port());
    slow.send(std::string("GET ") + kUsersMe + " HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + kLimitedKey +
              "\r\nX-Mock-Fault: delay=1000\r\n\r\n");
    // Wait until the slow one has reached the mock: it is in flight now.
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (h.mock().request_count() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(h.mock().request_count(), 1U);
    const auto refused = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.header("Retry-After"), "1");
    EXPECT_EQ(refused.header("RateLimit-Policy"), "\"client_in_flight\";q=1;w=1");
    const auto first = slow.read_response(5s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200);
    // The slot is free again, also for a request on the same kept-alive connection.
    slow.send(std::string("GET ") + kUsersMe + " HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + kLimitedKey + "\r\n\r\n");
    const auto again = slow.read_response(5s);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->status, 200);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3U);
    const auto refused_records = std::count_if(records.begin(), records.end(), [](const json::object& record) {
        return str(record, "limit") == "client_in_flight" && str(record, "code") == "rate_limited";
    });
    EXPECT_EQ(refused_records, 1);
}

TEST(RateLimits, UpstreamTooManyRequestsHoldsTheCredentialForEveryClientAndWorker) {
    Harness h(limited_client(R"("rate": {"per_s": 100, "burst": 100})", 2));
    // Giosg's own 429 goes to the caller that got it, unchanged.
    const auto throttled = request(h.port(), "GET", kUsersMe,
                                   {auth(kKeyFull), {"X-Mock-Fault", "status=429"}, {"X-Mock-Retry-After", "2"}});
    EXPECT_EQ(throttled.status, 429);
    EXPECT_EQ(throttled.header("Retry-After"), "2");
    EXPECT_TRUE(contains(throttled.body, "mock fault"));
    ASSERT_EQ(h.mock().request_count(), 1U);
    // Every later call on the credential waits, whichever client and connection (worker).
    std::vector<Response> held;
    for (int i = 0; i < 6; ++i)
        held.push_back(request(h.port(), "GET", kUsersMe, {auth(i % 2 == 0 ? kKeyFull : kLimitedKey)}));
    for (const auto& r : held) {
        EXPECT_EQ(r.status, 429);
        EXPECT_EQ(json::value_to<std::string>(r.json().at("code")), "upstream_rate_limited");
        const auto retry = r.header("Retry-After");
        ASSERT_TRUE(retry.has_value());
        EXPECT_TRUE(*retry == "1" || *retry == "2") << *retry;
    }
    EXPECT_EQ(h.mock().request_count(), 1U);
    // Records from two workers' rings may reach the file in either order: count them.
    const auto records = h.audit_records(7);
    ASSERT_EQ(records.size(), 7U);
    std::size_t answered = 0, held_records = 0;
    for (const auto& record : records) {
        if (str(record, "code") == "ok" && record.at("upstream_status") == json::value(429)) ++answered;
        if (str(record, "code") == "upstream_rate_limited" && str(record, "limit") == "upstream_hold" &&
            record.at("upstream_status").is_null())
            ++held_records;
    }
    EXPECT_EQ(answered, 1U);  // giosg's own 429: the upstream answered
    EXPECT_EQ(held_records, 6U);
    // Once the time has passed, calls go through again.
    std::this_thread::sleep_for(2100ms);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 200);
    EXPECT_TRUE(contains(h.metrics().render(), "giosg_gateway_rate_limited_total{client=\"full\",limit=\"upstream_hold\"} 3\n"));
}

TEST(RateLimits, UpstreamHoldAcceptsAnHttpDateAndIsCappedByMaxUpstreamHold) {
    HarnessOptions options = limited_client(R"("rate": {"per_s": 100, "burst": 100})");
    options.top_json = R"("rate_limits": {"max_upstream_hold_s": 1})";
    Harness h(options);
    // A date an hour ahead: the hold is capped at max_upstream_hold_s (1 s).
    const std::time_t in_an_hour = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + 1h);
    std::tm utc{};
    gmtime_r(&in_an_hour, &utc);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);  // the C locale's English names
    EXPECT_EQ(request(h.port(), "GET", kUsersMe,
                      {auth(kKeyFull), {"X-Mock-Fault", "status=429"}, {"X-Mock-Retry-After", date}})
                  .status,
              429);
    const auto held = request(h.port(), "GET", kUsersMe, {auth(kKeyFull)});
    EXPECT_EQ(held.status, 429);
    EXPECT_EQ(held.header("Retry-After"), "1");
    std::this_thread::sleep_for(1100ms);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
}

TEST(RateLimits, Upstream429WithoutRetryAfterHoldsNothing) {
    Harness h(limited_client(R"("rate": {"per_s": 100, "burst": 100})"));
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull), {"X-Mock-Fault", "status=429"}}).status, 429);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
}

}  // namespace
}  // namespace giosg::testing
