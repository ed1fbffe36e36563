// The shared store's decision cost (bench/README.md, "Rate limits"): one RedisStore on one
// io_context (as one worker has) against a running redis-server, first one decision at a time
// (the latency a request pays), then 64 at once (pipelined on the one connection: throughput).
//
//   giosg_redis_bench redis://127.0.0.1:PORT [decisions]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "limits/redis_store.hpp"
#include "net/io.hpp"

namespace asio = boost::asio;
using namespace giosg;
using Clock = std::chrono::steady_clock;

namespace {

Config bench_config(const std::string& url) {
    const std::string text = R"({"listen": "127.0.0.1:0", "upstream": {"url": "http://127.0.0.1:1"},
      "credentials": {"acme": {"token_env": "X", "rate": {"per_s": 1000000, "burst": 1000000}}},
      "clients": {"bench": {"key_sha256": "sha256:)" + std::string(64, 'a') +
                             R"(", "credential": "acme", "organizations": ["*"], "rate": {"per_s": 1000000, "burst": 1000000}}},
      "policy": {"source": "file", "file": "/dev/null"},
      "rate_limits": {"store": "redis", "redis_url": ")" + url + R"(", "timeout_ms": 1000, "key_prefix": "bench:"}})";
    auto result = parse_config(text, "/tmp");
    if (!result.config) {
        for (const auto& e : result.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
        std::exit(2);
    }
    return std::move(*result.config);
}

double percentile(std::vector<double>& values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: giosg_redis_bench redis://127.0.0.1:PORT [decisions]\n");
        return 2;
    }
    const int decisions = argc > 2 ? std::stoi(argv[2]) : 20000;
    const Config config = bench_config(argv[1]);
    limits::LocalLimits local(config);
    const auto table = std::make_shared<const limits::RedisCallTable>(limits::make_redis_rate_calls(config, local));
    asio::io_context ioc(1);
    limits::RedisStore store(ioc, config.rate_limits, "bench");
    store.start();
    int failures = 0;
    // Shared by the pipelined coroutines: they outlive the one that starts them.
    constexpr int kConcurrent = 64;
    int done = 0;
    std::vector<double> piped;
    piped.reserve(static_cast<std::size_t>(decisions));
    Clock::time_point piped_started;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer wait(ioc);
            for (int i = 0; i < 200 && !store.connected(); ++i) {
                wait.expires_after(std::chrono::milliseconds(10));
                co_await wait.async_wait(net::use_nothrow);
            }
            if (!store.connected()) {
                std::fprintf(stderr, "no connection to %s\n", argv[1]);
                store.close();
                co_return;
            }
            // One at a time: the round trip a request waits for.
            std::vector<double> latencies;
            latencies.reserve(static_cast<std::size_t>(decisions));
            const auto started = Clock::now();
            for (int i = 0; i < decisions; ++i) {
                const auto t0 = Clock::now();
                const auto answer = co_await store.decide(table, (*table)[0]);
                latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                if (!answer.reply) ++failures;
            }
            const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
            std::printf("sequential: %d decisions, %.0f/s, p50 %.1f us, p99 %.1f us\n", decisions,
                        decisions / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99));

            // 64 in flight at once on the one connection (pipelined).
            piped_started = Clock::now();
            for (int c = 0; c < kConcurrent; ++c) {
                asio::co_spawn(
                    ioc,
                    [&]() -> asio::awaitable<void> {
                        for (int i = 0; i < decisions / kConcurrent; ++i) {
                            const auto t0 = Clock::now();
                            const auto answer = co_await store.decide(table, (*table)[0]);
                            piped.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                            if (!answer.reply) ++failures;
                        }
                        if (++done == kConcurrent) {
                            const double s = std::chrono::duration<double>(Clock::now() - piped_started).count();
                            std::printf("pipelined (64 at once): %zu decisions, %.0f/s, p50 %.1f us, p99 %.1f us\n",
                                        piped.size(), static_cast<double>(piped.size()) / s, percentile(piped, 0.5),
                                        percentile(piped, 0.99));
                            store.close();
                        }
                    },
                    asio::detached);
            }
        },
        asio::detached);
    ioc.run();
    std::printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
