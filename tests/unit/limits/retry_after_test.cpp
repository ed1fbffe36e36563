// Retry-After in both of RFC 9110's forms, and the three HTTP-date formats.
#include <gtest/gtest.h>

#include "limits/retry_after.hpp"

namespace giosg::limits {
namespace {

using namespace std::chrono;

const system_clock::time_point kNow = sys_days(year(2026) / 12 / 5) + hours(7) + minutes(30);

TEST(RetryAfter, DelaySeconds) {
    EXPECT_EQ(parse_retry_after("120", kNow), seconds(120));
    EXPECT_EQ(parse_retry_after(" 0 ", kNow), seconds(0));
    EXPECT_EQ(parse_retry_after("99999999999999999999999", kNow), seconds(10LL * 365 * 24 * 3600));
}

TEST(RetryAfter, HttpDateInAnyOfTheThreeForms) {
    EXPECT_EQ(parse_retry_after("Sat, 05 Dec 2026 07:30:42 GMT", kNow), seconds(42));
    EXPECT_EQ(parse_retry_after("Saturday, 05-Dec-26 07:31:00 GMT", kNow), seconds(60));
    EXPECT_EQ(parse_retry_after("Sat Dec  5 07:30:05 2026", kNow), seconds(5));
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
              sys_days(year(1994) / 11 / 6) + hours(8) + minutes(49) + seconds(37));
}

TEST(RetryAfter, ADateInThePastIsNoWait) {
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), nanoseconds(0));
}

TEST(RetryAfter, AnythingElseIsRefused) {
    for (const char* bad : {"", "soon", "-5", "1.5", "12s", "Sat, 05 Dec 2026 07:30:42 UTC", "Sat, 31 Feb 2026 07:30:42 GMT",
                            "Sat, 05 Dec 2026 25:30:42 GMT", "Sat, 5 Dec 2026 07:30:42 GMT"}) {
        EXPECT_FALSE(parse_retry_after(bad, kNow).has_value()) << bad;
    }
}

}  // namespace
}  // namespace giosg::limits
