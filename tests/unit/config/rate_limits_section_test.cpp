// "rate_limits" and the clients' and credentials' "rate" / "max_in_flight" (docs/reference.md,
// "Rate limits"): defaults, the contract's example, and an error with its JSON path for each rule.
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

TEST(RateLimitsConfig, DefaultsAreALocalStoreAndNoLimits) {
    const Config config = parsed_after([](json::object&) {});
    EXPECT_EQ(config.rate_limits.store, RateLimitsConfig::Store::local);
    EXPECT_EQ(config.rate_limits.timeout, std::chrono::milliseconds(50));
    EXPECT_EQ(config.rate_limits.on_store_failure, RateLimitsConfig::OnStoreFailure::local);
    EXPECT_EQ(config.rate_limits.key_prefix, "giosg-gw:");
    EXPECT_EQ(config.rate_limits.max_upstream_hold, std::chrono::seconds(300));
    EXPECT_FALSE(config.clients.at(0).rate.has_value());
    EXPECT_EQ(config.clients.at(0).max_in_flight, 0U);
    EXPECT_FALSE(config.credentials.at("acme").rate.has_value());
}

TEST(RateLimitsConfig, TheContractExampleParses) {
    const Config config = parsed_after([](json::object& c) {
        billing(c)["rate"] = {{"per_s", 20}, {"burst", 40}};
        billing(c)["max_in_flight"] = 32;
        section(c, "credentials")["acme"].as_object()["rate"] = {{"per_s", 0.5}, {"burst", 100}};
        c["rate_limits"] = {{"store", "redis"},
                            {"redis_url", "redis://:s3cret@Redis.Example:6380/2"},
                            {"timeout_ms", 25},
                            {"on_store_failure", "deny"},
                            {"key_prefix", "gw1:"},
                            {"max_upstream_hold_s", 60}};
    });
    ASSERT_TRUE(config.clients.at(0).rate.has_value());
    EXPECT_EQ(config.clients.at(0).rate->per_s, 20);
    EXPECT_EQ(config.clients.at(0).rate->burst, 40U);
    EXPECT_EQ(config.clients.at(0).max_in_flight, 32U);
    EXPECT_EQ(config.credentials.at("acme").rate->per_s, 0.5);
    const auto& limits = config.rate_limits;
    EXPECT_EQ(limits.store, RateLimitsConfig::Store::redis);
    ASSERT_TRUE(limits.redis.has_value());
    EXPECT_EQ(limits.redis->host, "redis.example");
    EXPECT_EQ(limits.redis->port, 6380);
    EXPECT_EQ(limits.redis->db, 2U);
    ASSERT_TRUE(limits.redis->password.has_value());
    EXPECT_EQ(limits.redis->password->reveal(), "s3cret");
    EXPECT_EQ(limits.timeout, std::chrono::milliseconds(25));
    EXPECT_EQ(limits.on_store_failure, RateLimitsConfig::OnStoreFailure::deny);
    EXPECT_EQ(limits.key_prefix, "gw1:");
    EXPECT_EQ(limits.max_upstream_hold, std::chrono::seconds(60));
}

TEST(RateLimitsConfig, RateNeedsAPositivePerSecondAndABurst) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["rate"] = {{"per_s", 0}, {"burst", 1}}; }),
                ElementsAre("/clients/billing/rate/per_s: must be a number from 0.001 to 1000000 (requests per "
                            "second; 0.5 = one every 2 s)"));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["rate"] = {{"per_s", "10"}, {"burst", 1}}; }),
                ElementsAre(HasSubstr("/clients/billing/rate/per_s: must be a number")));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["rate"] = {{"per_s", 10}}; }),
                ElementsAre("/clients/billing/rate/burst: missing required key"));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["rate"] = {{"per_s", 10}, {"burst", 0}}; }),
                ElementsAre("/clients/billing/rate/burst: must be a positive integer"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    section(c, "credentials")["acme"].as_object()["rate"] = {{"per_s", 1}, {"burst", 1}, {"size", 2}};
                }),
                ElementsAre("/credentials/acme/rate/size: unknown key"));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["rate"] = 5; }),
                ElementsAre("/clients/billing/rate: must be an object"));
}

TEST(RateLimitsConfig, MaxInFlightIsAPositiveInteger) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["max_in_flight"] = 0; }),
                ElementsAre("/clients/billing/max_in_flight: must be a positive integer"));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["max_in_flight"] = 1.5; }),
                ElementsAre(HasSubstr("/clients/billing/max_in_flight: must be")));
}

TEST(RateLimitsConfig, RedisStoreNeedsAUsableUrl) {
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"store", "redis"}}; }),
                ElementsAre("/rate_limits/redis_url: missing required key"));
    const auto url_error = [](std::string_view url) {
        return errors_after([&](json::object& c) { c["rate_limits"] = {{"store", "redis"}, {"redis_url", url}}; });
    };
    EXPECT_THAT(url_error("http://127.0.0.1:6379"),
                ElementsAre("/rate_limits/redis_url: must be redis://[:password@]host[:port][/db]"));
    EXPECT_THAT(url_error("redis://user:pw@127.0.0.1"),
                ElementsAre("/rate_limits/redis_url: user info must be \":password\" (the password alone)"));
    EXPECT_THAT(url_error("redis://127.0.0.1:0"), ElementsAre("/rate_limits/redis_url: port must be a number from 1 to 65535"));
    EXPECT_THAT(url_error("redis://127.0.0.1/x"), ElementsAre("/rate_limits/redis_url: the database must be a number (\"/0\")"));
    EXPECT_THAT(url_error("redis://127.0.0.1?db=1"), ElementsAre("/rate_limits/redis_url: must not have a query or fragment"));
    // The password never shows in an error.
    for (const auto& line : url_error("redis://:topsecret@127.0.0.1:99999")) EXPECT_THAT(line, Not(HasSubstr("topsecret")));
    const Config config = parsed_after([](json::object& c) {
        c["rate_limits"] = {{"store", "redis"}, {"redis_url", "redis://[::1]"}};
    });
    EXPECT_EQ(config.rate_limits.redis->host, "::1");
    EXPECT_EQ(config.rate_limits.redis->port, 6379);
    EXPECT_EQ(config.rate_limits.redis->db, 0U);
}

TEST(RateLimitsConfig, ChoicesAndBoundsNameTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"store", "memcached"}}; }),
                ElementsAre("/rate_limits/store: must be \"local\" or \"redis\""));
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"on_store_failure", "retry"}}; }),
                ElementsAre("/rate_limits/on_store_failure: must be \"local\", \"deny\" or \"allow\""));
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"timeout_ms", 0}}; }),
                ElementsAre("/rate_limits/timeout_ms: must be a positive integer"));
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"key_prefix", "a b"}}; }),
                ElementsAre("/rate_limits/key_prefix: must be at most 64 printable ASCII characters without spaces"));
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"max_upstream_hold_s", 0}}; }),
                ElementsAre("/rate_limits/max_upstream_hold_s: must be a positive integer"));
    EXPECT_THAT(errors_after([](json::object& c) { c["rate_limits"] = {{"stor", "local"}}; }),
                ElementsAre("/rate_limits/stor: unknown key"));
}

}  // namespace
}  // namespace giosg
