// The fields of a limit refusal, as docs/reference.md "Rate limits" shows them.
#include <gtest/gtest.h>

#include "limits/rate_headers.hpp"

namespace giosg::limits {
namespace {

TEST(RateHeaders, ClientRateRefusalCarriesRetryAfterAndTheDraftFields) {
    LimitVerdict v{.reason = Reason::rate_limited, .limit = LimitKind::client_rate, .retry_after_s = 1,
                   .quota = 40, .window_s = 2, .remaining = 0, .reset_s = 1};
    std::string out;
    append_limit_fields(out, v);
    EXPECT_EQ(out,
              "Retry-After: 1\r\n"
              "RateLimit-Policy: \"client\";q=40;w=2\r\n"
              "RateLimit: \"client\";r=0;t=1\r\n");
}

TEST(RateHeaders, EachLimitNamesItsPolicy) {
    std::string out;
    append_limit_fields(out, LimitVerdict{.reason = Reason::rate_limited, .limit = LimitKind::credential_rate,
                                          .retry_after_s = 3, .quota = 100, .window_s = 2, .reset_s = 3});
    EXPECT_NE(out.find("RateLimit-Policy: \"credential\";q=100;w=2\r\n"), std::string::npos);
    out.clear();
    append_limit_fields(out, LimitVerdict{.reason = Reason::rate_limited, .limit = LimitKind::client_in_flight,
                                          .retry_after_s = 1, .quota = 32, .window_s = 1, .reset_s = 1});
    EXPECT_NE(out.find("RateLimit: \"client_in_flight\";r=0;t=1\r\n"), std::string::npos);
}

TEST(RateHeaders, UpstreamHoldCarriesOnlyRetryAfterAndAdmittedNothing) {
    std::string out;
    append_limit_fields(out, LimitVerdict{.reason = Reason::upstream_rate_limited, .limit = LimitKind::upstream_hold,
                                          .retry_after_s = 30});
    EXPECT_EQ(out, "Retry-After: 30\r\n");
    out.clear();
    append_limit_fields(out, LimitVerdict{});
    EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace giosg::limits
