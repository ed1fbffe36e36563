#include <gtest/gtest.h>

#include "harness.hpp"

namespace giosg::testing {
namespace {

TEST(Proxy, AllowedRequestIsForwardedWithServerToken) {
    Harness h;
    const auto r = request(h.port(), "GET", "/api/v5/users/me", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200);
    const auto received = h.mock().received();
    ASSERT_FALSE(received.empty());
    EXPECT_EQ(received.back().header("Authorization"), std::string("Token ") + kUpstreamToken);
}

}  // namespace
}  // namespace giosg::testing
