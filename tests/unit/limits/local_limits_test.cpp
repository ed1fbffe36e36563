// The replica's shared limit state: several workers (threads, or turns on a fake clock) deciding
// on the same keys must together admit the configured rate, not a multiple of it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "limits/limit.hpp"
#include "limits/local_limits.hpp"

namespace giosg::limits {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1000 * kSecond;

Config config_with(std::optional<RateConfig> client_rate, std::uint32_t max_in_flight,
                   std::optional<RateConfig> credential_rate) {
    Config config;
    CredentialConfig credential;
    credential.rate = credential_rate;
    config.credentials.emplace("acme", credential);
    config.credentials.emplace("beta", CredentialConfig{});
    for (const char* name : {"billing", "reports"}) {
        ClientConfig client;
        client.name = name;
        client.credential = "acme";
        client.rate = client_rate;
        client.max_in_flight = max_in_flight;
        config.clients.push_back(client);
    }
    return config;
}

TEST(LocalLimits, ConcurrentWorkersAtOneInstantAdmitExactlyTheBurst) {
    LocalLimits state(config_with(RateConfig{.per_s = 1, .burst = 1000}, 0, std::nullopt));
    std::atomic<int> admitted{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (check_local_rates(state, 0, kStart).admitted()) admitted.fetch_add(1);
        });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(admitted.load(), 1000);  // no admission lost to, or doubled by, a race
}

TEST(LocalLimits, ConcurrentWorkersOnAMovingFakeClockAdmitTheConfiguredRate) {
    // Four threads share one fake clock that each decision moves 100 µs on: 4 × 25 000
    // decisions span 10 s, so burst + 10 s × per_s must be admitted, whatever the interleaving.
    constexpr std::int64_t kStep = kSecond / 10000;
    LocalLimits state(config_with(RateConfig{.per_s = 200, .burst = 50}, 0, std::nullopt));
    std::atomic<std::int64_t> clock{kStart};
    std::atomic<int> admitted{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            for (int i = 0; i < 25000; ++i) {
                const std::int64_t now = clock.fetch_add(kStep);
                if (check_local_rates(state, 0, now).admitted()) admitted.fetch_add(1);
            }
        });
    }
    for (auto& t : workers) t.join();
    const double expected = 50 + 200 * 10;
    EXPECT_NEAR(admitted.load(), expected, expected * 0.02);
}

TEST(LocalLimits, UnevenWorkersStillShareOneRate) {
    // Worker 0 carries nine requests in ten (one busy kept-alive connection): the admitted total
    // is still the configured rate, which a per-worker fair share (per_s / 4) could not give.
    LocalLimits state(config_with(RateConfig{.per_s = 100, .burst = 10}, 0, std::nullopt));
    std::array<int, 4> admitted_by_worker{};
    for (std::int64_t t = 0; t < 20 * kSecond; t += kSecond / 2000) {
        const auto tick = t / (kSecond / 2000);
        const int worker = tick % 10 == 9 ? static_cast<int>(1 + tick / 10 % 3) : 0;
        if (check_local_rates(state, 0, kStart + t).admitted()) ++admitted_by_worker[static_cast<std::size_t>(worker)];
    }
    const int total = admitted_by_worker[0] + admitted_by_worker[1] + admitted_by_worker[2] + admitted_by_worker[3];
    EXPECT_NEAR(total, 10 + 100 * 20, 2010 * 0.02);
    EXPECT_GT(admitted_by_worker[0], 2010 / 2);
}

TEST(LocalLimits, CredentialBudgetIsSharedByItsClients) {
    LocalLimits state(config_with(std::nullopt, 0, RateConfig{.per_s = 1, .burst = 3}));
    EXPECT_TRUE(check_local_rates(state, 0, kStart).admitted());
    EXPECT_TRUE(check_local_rates(state, 1, kStart).admitted());
    EXPECT_TRUE(check_local_rates(state, 0, kStart).admitted());
    const auto refused = check_local_rates(state, 1, kStart);
    EXPECT_EQ(refused.reason, Reason::rate_limited);
    EXPECT_EQ(refused.limit, LimitKind::credential_rate);
    EXPECT_EQ(refused.retry_after_s, 1);
    EXPECT_EQ(refused.quota, 3U);
    EXPECT_EQ(refused.window_s, 3);
}

TEST(LocalLimits, ARefusalByTheCredentialGivesTheClientTokenBack) {
    LocalLimits state(config_with(RateConfig{.per_s = 1, .burst = 2}, 0, RateConfig{.per_s = 1, .burst = 1}));
    EXPECT_TRUE(check_local_rates(state, 0, kStart).admitted());
    EXPECT_EQ(check_local_rates(state, 0, kStart).limit, LimitKind::credential_rate);
    // The credential refilled after 1 s; the client still has one of its two (the refused
    // request did not spend it).
    EXPECT_TRUE(check_local_rates(state, 0, kStart + kSecond).admitted());
    EXPECT_TRUE(check_local_rates(state, 0, kStart + 2 * kSecond).admitted());
}

TEST(LocalLimits, ClientRateRefusalCarriesItsPolicy) {
    LocalLimits state(config_with(RateConfig{.per_s = 20, .burst = 40}, 0, std::nullopt));
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(check_local_rates(state, 0, kStart).admitted());
    const auto refused = check_local_rates(state, 0, kStart);
    EXPECT_EQ(refused.limit, LimitKind::client_rate);
    EXPECT_EQ(refused.quota, 40U);
    EXPECT_EQ(refused.window_s, 2);
    EXPECT_EQ(refused.remaining, 0U);
    EXPECT_EQ(refused.retry_after_s, 1);
    // The other client has its own bucket.
    EXPECT_TRUE(check_local_rates(state, 1, kStart).admitted());
}

TEST(LocalLimits, InFlightCapCountsAcrossSlotsAndFreesOnRelease) {
    LocalLimits state(config_with(std::nullopt, 2, std::nullopt));
    InFlightSlot a, b, c;
    EXPECT_TRUE(check_replica_limits(state, 0, kStart, a).admitted());
    EXPECT_TRUE(check_replica_limits(state, 0, kStart, b).admitted());
    const auto refused = check_replica_limits(state, 0, kStart, c);
    EXPECT_EQ(refused.limit, LimitKind::client_in_flight);
    EXPECT_EQ(refused.retry_after_s, 1);
    EXPECT_FALSE(c.held());
    EXPECT_TRUE(check_replica_limits(state, 1, kStart, c).admitted());  // per client
    c.release();
    a.release();
    EXPECT_TRUE(check_replica_limits(state, 0, kStart, c).admitted());
    {
        InFlightSlot moved = std::move(b);  // moving keeps one place, destroying frees it
        EXPECT_FALSE(b.held());
        EXPECT_TRUE(moved.held());
    }
    EXPECT_EQ(state.in_flight(0).count.load(), 1U);
}

TEST(LocalLimits, UpstreamHoldRefusesEveryClientOfTheCredentialUntilItEnds) {
    LocalLimits state(config_with(std::nullopt, 0, std::nullopt));
    hold_credential(state, 0, kStart, kStart + 30 * kSecond, 300 * kSecond);
    InFlightSlot slot;
    for (std::size_t client : {0U, 1U}) {
        const auto v = check_replica_limits(state, client, kStart + kSecond / 2, slot);
        EXPECT_EQ(v.reason, Reason::upstream_rate_limited);
        EXPECT_EQ(v.limit, LimitKind::upstream_hold);
        EXPECT_EQ(v.retry_after_s, 30);  // 29.5 s rounded up
    }
    // A shorter hold does not shorten a longer one.
    hold_credential(state, 0, kStart, kStart + 5 * kSecond, 300 * kSecond);
    EXPECT_FALSE(check_replica_limits(state, 0, kStart + 10 * kSecond, slot).admitted());
    EXPECT_TRUE(check_replica_limits(state, 0, kStart + 30 * kSecond, slot).admitted());
}

TEST(LocalLimits, UpstreamHoldIsCappedAtTheMaximum) {
    LocalLimits state(config_with(std::nullopt, 0, std::nullopt));
    hold_credential(state, 0, kStart, kStart + 86400 * kSecond, 300 * kSecond);
    InFlightSlot slot;
    EXPECT_EQ(check_replica_limits(state, 0, kStart, slot).retry_after_s, 300);
    EXPECT_TRUE(check_replica_limits(state, 0, kStart + 300 * kSecond, slot).admitted());
}

TEST(LocalLimits, KnowsWhetherAnyLimitIsConfigured) {
    EXPECT_FALSE(LocalLimits(config_with(std::nullopt, 0, std::nullopt)).any_limit());
    EXPECT_TRUE(LocalLimits(config_with(std::nullopt, 3, std::nullopt)).any_limit());
    EXPECT_TRUE(LocalLimits(config_with(std::nullopt, 0, RateConfig{.per_s = 1, .burst = 1})).any_limit());
}

// A reload builds new limits; the buckets and holds of names that stay continue (a reload
// must not refill a bucket or lift giosg's hold), names that are new start full.
TEST(LocalLimits, CarryOverKeepsBucketsAndHoldsOfNamesThatStay) {
    LocalLimits before(config_with(RateConfig{.per_s = 1, .burst = 2}, 0, RateConfig{.per_s = 1, .burst = 5}));
    EXPECT_TRUE(check_local_rates(before, 0, kStart).admitted());
    EXPECT_TRUE(check_local_rates(before, 0, kStart).admitted());
    EXPECT_FALSE(check_local_rates(before, 0, kStart).admitted());  // billing's burst spent
    extend_hold(before.hold(0), kStart + 30 * kSecond);

    Config next = config_with(RateConfig{.per_s = 1, .burst = 2}, 0, RateConfig{.per_s = 1, .burst = 5});
    next.clients[1].name = "newcomer";  // "reports" leaves, "newcomer" arrives at index 1
    LocalLimits after(next);
    after.carry_over(before);
    EXPECT_FALSE(check_local_rates(after, 0, kStart).admitted());  // billing still spent
    EXPECT_TRUE(check_local_rates(after, 1, kStart).admitted());   // a new name starts with its burst
    EXPECT_EQ(after.hold(0).until.load(), kStart + 30 * kSecond);

    LocalLimits fresh(next);  // without carry_over the bucket would be full again
    EXPECT_TRUE(check_local_rates(fresh, 0, kStart).admitted());
}

}  // namespace
}  // namespace giosg::limits
