// The shared store's pure half: the script call built per client, and the verdict read from the
// script's reply (the same fields as the local store's).
#include <gtest/gtest.h>

#include "limits/redis_script.hpp"

namespace giosg::limits {
namespace {

Config config_with(std::optional<RateConfig> client_rate, std::optional<RateConfig> credential_rate) {
    Config config;
    config.rate_limits.key_prefix = "gw:";
    CredentialConfig credential;
    credential.rate = credential_rate;
    config.credentials.emplace("acme", credential);
    ClientConfig client;
    client.name = "billing";
    client.credential = "acme";
    client.rate = client_rate;
    config.clients.push_back(client);
    return config;
}

TEST(RedisScript, CallNamesBothKeysClientFirstWithMicrosecondParameters) {
    const Config config = config_with(RateConfig{.per_s = 20, .burst = 40}, RateConfig{.per_s = 0.5, .burst = 3});
    const LocalLimits limits(config);
    const auto calls = make_redis_rate_calls(config, limits);
    ASSERT_EQ(calls.size(), 1U);
    const std::vector<std::string> expected = {"EVALSHA", gcra_script_sha1(), "2", "gw:client:billing", "gw:credential:acme",
                                               "50000", "2000000", "2000000", "6000000"};
    EXPECT_EQ(calls[0].args, expected);
    EXPECT_EQ(gcra_script_sha1().size(), 40U);
}

TEST(RedisScript, AClientWithoutAnyRateAsksNothing) {
    const Config config = config_with(std::nullopt, std::nullopt);
    const LocalLimits limits(config);
    EXPECT_TRUE(make_redis_rate_calls(config, limits)[0].args.empty());
    const Config credential_only = config_with(std::nullopt, RateConfig{.per_s = 1, .burst = 1});
    const LocalLimits credential_limits(credential_only);
    const auto calls = make_redis_rate_calls(credential_only, credential_limits);
    EXPECT_EQ(calls[0].args.at(2), "1");
    EXPECT_EQ(calls[0].args.at(3), "gw:credential:acme");
    // Its first key is the credential's: a refusal by key 1 is the credential's.
    const auto verdict = verdict_from_reply(credential_limits, 0, calls[0], ScriptReply{.refused = 1, .retry_after_us = 400000});
    EXPECT_EQ(verdict.limit, LimitKind::credential_rate);
    EXPECT_EQ(verdict.retry_after_s, 1);
}

TEST(RedisScript, VerdictsCarryTheSameFieldsAsTheLocalStore) {
    const Config config = config_with(RateConfig{.per_s = 20, .burst = 40}, RateConfig{.per_s = 0.5, .burst = 3});
    const LocalLimits limits(config);
    const auto calls = make_redis_rate_calls(config, limits);
    const auto by_client = verdict_from_reply(limits, 0, calls[0], ScriptReply{.refused = 1, .retry_after_us = 50000});
    EXPECT_EQ(by_client.reason, Reason::rate_limited);
    EXPECT_EQ(by_client.limit, LimitKind::client_rate);
    EXPECT_EQ(by_client.quota, 40U);
    EXPECT_EQ(by_client.window_s, 2);
    EXPECT_EQ(by_client.retry_after_s, 1);
    const auto by_credential = verdict_from_reply(limits, 0, calls[0], ScriptReply{.refused = 2, .retry_after_us = 2500000});
    EXPECT_EQ(by_credential.limit, LimitKind::credential_rate);
    EXPECT_EQ(by_credential.quota, 3U);
    EXPECT_EQ(by_credential.window_s, 6);
    EXPECT_EQ(by_credential.retry_after_s, 3);
    // Admitted with 10 of the 40 used (10 × 50 ms ahead): 30 remain.
    const auto admitted = verdict_from_reply(limits, 0, calls[0], ScriptReply{.refused = 0, .client_ahead_us = 500000});
    EXPECT_TRUE(admitted.admitted());
    EXPECT_EQ(admitted.remaining, 30U);
    EXPECT_EQ(admitted.reset_s, 1);
}

}  // namespace
}  // namespace giosg::limits
