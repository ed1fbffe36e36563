// The shared store (docs/reference.md §8, "Replicas and Redis") against a real redis-server on a
// free port: two gateway processes share one limit; a Redis that is killed or stuck never holds
// a request past timeout_ms and on_store_failure applies; a restarted Redis is found again
// without restarting the gateway; a Redis that is down at start-up stops nothing.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include <unistd.h>

#include "admin/metrics.hpp"
#include "common/sha256.hpp"
#include "harness.hpp"
#include "redis_server.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr const char* kLimitedKey = "limited-client-key-5d1f0c2b9e";

std::string limited_client_json(std::string_view rate) {
    return R"(    "limited": {"key_sha256": ")" + format_key_digest(sha256(kLimitedKey)) +
           R"(", "credential": "giosg", "scopes": ["users"], "organizations": ["*"], "rate": )" + std::string(rate) +
           "},";
}

HarnessOptions redis_options(const std::string& redis_url, std::string_view rate, std::string_view rate_limits_extra,
                             unsigned workers = 1) {
    HarnessOptions o;
    o.policy_source = "file";
    o.workers = workers;
    o.clients_json = limited_client_json(rate);
    o.top_json = R"("rate_limits": {"store": "redis", "redis_url": ")" + redis_url + R"(", "key_prefix": "t)" +
                 std::to_string(::getpid()) + "-" + std::to_string(free_port()) + R"(:")" +
                 (rate_limits_extra.empty() ? "" : ", " + std::string(rate_limits_extra)) + "}";
    return o;
}

/// Waits until a request is decided by Redis (the connection is made asynchronously at start).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

TEST(RedisLimits, TwoGatewayProcessesTogetherAdmitOneRate) {
    RedisServer redis;
    const fs::path dir = make_temp_dir("giosg-redis-two");
    mock::MockOptions mo;
    mo.catalogue_file = fs::path(GIOSG_SOURCE_DIR) / "policies/giosg-v5-endpoints.json";
    mo.expected_token = kUpstreamToken;
    mock::GiosgMock mock(mo);
    mock.start();
    write_text(dir / "upstream.token", std::string(kUpstreamToken) + "\n");
    std::vector<std::unique_ptr<ServeProcess>> gateways;
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < 2; ++i) {
        const fs::path config = dir / ("gw" + std::to_string(i) + ".json");
        write_text(config, R"({
  "listen": "127.0.0.1:0", "workers": 2,
  "upstream": {"url": ")" + mock.origin() + R"("},
  "credentials": {"giosg": {"token_file": "upstream.token", "rate": {"per_s": 0.001, "burst": 12}}},
  "clients": {"limited": {"key_sha256": ")" + format_key_digest(sha256(kLimitedKey)) +
                               R"(", "credential": "giosg", "scopes": ["users"], "organizations": ["*"]}},
  "policy": {"source": "file", "file": ")" + mo.catalogue_file.string() + R"("},
  "audit": {"path": "audit)" + std::to_string(i) + R"(.jsonl"},
  "rate_limits": {"store": "redis", "redis_url": ")" + redis.url() + R"(", "on_store_failure": "deny", "timeout_ms": 500}
})");
        const fs::path run_dir = dir / ("run" + std::to_string(i));
        fs::create_directories(run_dir);
        gateways.push_back(std::make_unique<ServeProcess>(config, run_dir));
        ports.push_back(gateways.back()->wait_for_port(10s));
        ASSERT_NE(ports.back(), 0) << gateways.back()->stderr_text();
    }
    // Both connected: a refusal for the store (503) would show otherwise. The first requests may
    // race the connection, so wait for each gateway's first admitted answer.
    int admitted = 0, refused = 0;
    for (std::uint16_t port : ports) {
        ASSERT_TRUE(wait_until([&] {
            const auto r = request(port, "GET", kUsersMe, {auth(kLimitedKey)});
            if (r.status == 200) ++admitted;
            return r.status == 200;
        })) << "gateway on " << port << " never reached Redis";
    }
    for (int i = 0; i < 30; ++i) {
        const auto r = request(ports[static_cast<std::size_t>(i % 2)], "GET", kUsersMe, {auth(kLimitedKey)});
        if (r.status == 200) ++admitted;
        else if (r.status == 429) ++refused;
        else ADD_FAILURE() << r.status << " " << r.body;
    }
    EXPECT_EQ(admitted, 12);  // the burst once, not once per process
    EXPECT_EQ(refused, 20);
    EXPECT_EQ(mock.request_count(), 12U);
    for (auto& g : gateways) EXPECT_EQ(g->signal_and_wait(SIGTERM, 10s), 0);
    mock.stop();
    fs::remove_all(dir);
}

TEST(RedisLimits, ClientRateIsDecidedInRedisWithTheSameFields) {
    RedisServer redis;
    Harness h(redis_options(redis.url(), R"({"per_s": 0.5, "burst": 2})", R"("on_store_failure": "deny")", 2));
    ASSERT_TRUE(wait_until([&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status == 200; }));
    // Redis forgets the script (as after a restart): EVALSHA answers NOSCRIPT, EVAL decides.
    ASSERT_TRUE(redis.command("SCRIPT FLUSH"));
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 200);  // a failure would be 503 (deny)
    const auto refused = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.header("RateLimit-Policy"), "\"client\";q=2;w=4");
    EXPECT_EQ(refused.header("Retry-After"), "2");
    // A client without a rate never asks Redis.
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
    EXPECT_NE(h.metrics().render().find("giosg_gateway_rate_store_duration_seconds_count"), std::string::npos);
}

TEST(RedisLimits, RedisKilledAppliesOnStoreFailureAtOnceAndARestartIsFoundAgain) {
    RedisServer redis;
    Harness h(redis_options(redis.url(), R"({"per_s": 100, "burst": 100})", R"("on_store_failure": "deny", "timeout_ms": 50)"));
    ASSERT_TRUE(wait_until([&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status == 200; }));
    redis.kill();
    for (int i = 0; i < 5; ++i) {
        const auto started = std::chrono::steady_clock::now();
        const auto r = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
        const auto took = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(r.status, 503);
        EXPECT_EQ(json::value_to<std::string>(r.json().at("code")), "rate_store_unavailable");
        EXPECT_LT(took, 50ms + 450ms);  // timeout_ms plus slack for a shared machine
    }
    // Clients without a rate are not affected.
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
    redis.restart();
    EXPECT_TRUE(wait_until([&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status == 200; }, 8s))
        << "no reconnect after Redis came back";
    const std::string metrics = h.metrics().render();
    EXPECT_EQ(metrics.find("giosg_gateway_rate_store_failures_total{reason=\"disconnected\"} 0\n"), std::string::npos);
}

TEST(RedisLimits, AStuckRedisHoldsNoRequestPastTimeoutThenAllowApplies) {
    RedisServer redis;
    Harness h(redis_options(redis.url(), R"({"per_s": 100, "burst": 100})", R"("on_store_failure": "allow", "timeout_ms": 200)"));
    ASSERT_TRUE(wait_until([&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status == 200; }));
    redis.pause();
    for (int i = 0; i < 3; ++i) {
        const auto started = std::chrono::steady_clock::now();
        const auto r = request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)});
        const auto took = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(r.status, 200);  // "allow"
        EXPECT_GE(took, 190ms);          // it did wait for Redis ...
        EXPECT_LT(took, 200ms + 500ms);  // ... but not past timeout_ms (plus slack)
    }
    EXPECT_NE(h.metrics().render().find("giosg_gateway_rate_store_failures_total{reason=\"timeout\"} 3\n"),
              std::string::npos)
        << h.metrics().render();
    // A Redis that stays silent is dropped and connected again (TCP alone may not notice for
    // minutes): sixteen unanswered decisions in a row.
    std::vector<std::future<Response>> pending;
    for (int i = 0; i < 16; ++i)
        pending.push_back(std::async(std::launch::async, [&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}); }));
    for (auto& f : pending) EXPECT_EQ(f.get().status, 200);
    EXPECT_NE(Harness::log_text().find("has not answered 16 decisions in a row; reconnecting"), std::string::npos);
    redis.resume();
    const auto reconnected = [] {
        const std::string log = Harness::log_text();
        const auto dropped = log.rfind("reconnecting");
        return dropped != std::string::npos && log.find("connected to Redis", dropped) != std::string::npos;
    };
    EXPECT_TRUE(wait_until(reconnected, 8s)) << Harness::log_text();
}

TEST(RedisLimits, RedisDownAtStartStopsNothingAndLocalFallbackUsesThisReplicasBuckets) {
    const std::uint16_t port = free_port();
    Harness h(redis_options("redis://127.0.0.1:" + std::to_string(port), R"({"per_s": 0.001, "burst": 2})",
                            R"("on_store_failure": "local", "timeout_ms": 50)"));
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 200);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 200);
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status, 429);  // the local bucket
    // Redis arrives: the shared (fresh) bucket decides from then on.
    RedisServer redis(port);
    EXPECT_TRUE(wait_until([&] { return request(h.port(), "GET", kUsersMe, {auth(kLimitedKey)}).status == 200; }, 8s));
}

}  // namespace
}  // namespace giosg::testing
