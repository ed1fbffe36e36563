// The GCRA arithmetic on a fake clock (nanoseconds as plain numbers).
#include <gtest/gtest.h>

#include "limits/gcra.hpp"

namespace giosg::limits {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1000 * kSecond;  // a steady clock is far from 0

TEST(Gcra, AFreshKeyAdmitsTheWholeBurstAtOnceThenRefuses) {
    const auto params = GcraParams::from(RateConfig{.per_s = 20, .burst = 40});
    std::int64_t tat = 0;
    for (std::uint32_t i = 0; i < 40; ++i) {
        const auto d = gcra_decide(tat, kStart, params);
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.remaining, 39 - i);
        tat = d.new_tat;
    }
    const auto refused = gcra_decide(tat, kStart, params);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.new_tat, tat);                     // a refusal stores nothing
    EXPECT_EQ(refused.retry_after_ns, kSecond / 20);     // one emission interval
    EXPECT_EQ(ceil_seconds(refused.retry_after_ns), 1);
}

TEST(Gcra, RefillsAtTheConfiguredRate) {
    const auto params = GcraParams::from(RateConfig{.per_s = 10, .burst = 1});
    auto d = gcra_decide(0, kStart, params);
    ASSERT_TRUE(d.allowed);
    EXPECT_FALSE(gcra_decide(d.new_tat, kStart + kSecond / 10 - 1, params).allowed);
    EXPECT_TRUE(gcra_decide(d.new_tat, kStart + kSecond / 10, params).allowed);
}

TEST(Gcra, FractionalRateAdmitsOneEveryTwoSeconds) {
    const auto params = GcraParams::from(RateConfig{.per_s = 0.5, .burst = 1});
    EXPECT_EQ(params.emission_ns, 2 * kSecond);
    auto d = gcra_decide(0, kStart, params);
    ASSERT_TRUE(d.allowed);
    const auto refused = gcra_decide(d.new_tat, kStart + kSecond / 2, params);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_ns, 3 * kSecond / 2);
    EXPECT_EQ(ceil_seconds(refused.retry_after_ns), 2);
    EXPECT_TRUE(gcra_decide(d.new_tat, kStart + 2 * kSecond, params).allowed);
}

TEST(Gcra, IdleTimeNeverBanksMoreThanTheBurst) {
    const auto params = GcraParams::from(RateConfig{.per_s = 100, .burst = 5});
    std::int64_t tat = gcra_decide(0, kStart, params).new_tat;
    const std::int64_t later = kStart + 3600 * kSecond;
    int admitted = 0;
    for (int i = 0; i < 20; ++i) {
        const auto d = gcra_decide(tat, later, params);
        if (!d.allowed) break;
        tat = d.new_tat;
        ++admitted;
    }
    EXPECT_EQ(admitted, 5);
}

TEST(Gcra, OverALongRunAdmitsBurstPlusRateTimesTime) {
    const auto params = GcraParams::from(RateConfig{.per_s = 50, .burst = 100});
    std::int64_t tat = 0;
    std::int64_t admitted = 0;
    // A request every 1 ms for 60 s: far more demand than the rate.
    for (std::int64_t t = 0; t <= 60 * kSecond; t += kSecond / 1000) {
        const auto d = gcra_decide(tat, kStart + t, params);
        if (d.allowed) {
            tat = d.new_tat;
            ++admitted;
        }
    }
    EXPECT_EQ(admitted, 100 + 50 * 60);
}

TEST(Gcra, CeilSecondsIsAtLeastOne) {
    EXPECT_EQ(ceil_seconds(0), 1);
    EXPECT_EQ(ceil_seconds(1), 1);
    EXPECT_EQ(ceil_seconds(kSecond), 1);
    EXPECT_EQ(ceil_seconds(kSecond + 1), 2);
}

}  // namespace
}  // namespace giosg::limits
