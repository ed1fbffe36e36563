// "admin_token_sha256", "drain_timeout_ms" and "log" (section_operations.cpp).
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

TEST(ParseConfig, OperationsDefaults) {
    const Config config = parsed_after([](json::object&) {});
    EXPECT_FALSE(config.admin_token_sha256.has_value());
    EXPECT_EQ(config.drain_timeout, std::chrono::milliseconds(10000));
    EXPECT_EQ(config.log.level, LogConfig::Level::info);
    EXPECT_EQ(config.log.format, LogConfig::Format::text);
}

TEST(ParseConfig, OperationsValuesAreRead) {
    const std::string digest = "sha256:" + std::string(64, 'a');
    const Config config = parsed_after([&](json::object& c) {
        c["admin_token_sha256"] = digest;
        c["drain_timeout_ms"] = 2500;
        c["log"] = json::object{{"level", "debug"}, {"format", "json"}};
    });
    ASSERT_TRUE(config.admin_token_sha256.has_value());
    EXPECT_EQ(format_key_digest(*config.admin_token_sha256), digest);
    EXPECT_EQ(config.drain_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(config.log.level, LogConfig::Level::debug);
    EXPECT_EQ(config.log.format, LogConfig::Format::json);
}

TEST(ParseConfig, OperationsErrorsNameTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) { c["admin_token_sha256"] = "sha256:abc"; }),
                ElementsAre("/admin_token_sha256: must be \"sha256:\" and 64 hex digits (see giosg-gateway hash-key)"));
    EXPECT_THAT(errors_after([](json::object& c) { c["drain_timeout_ms"] = -1; }),
                ElementsAre(::testing::StartsWith("/drain_timeout_ms: ")));
    EXPECT_THAT(errors_after([](json::object& c) { c["log"] = json::object{{"level", "loud"}}; }),
                ElementsAre(::testing::StartsWith("/log/level: ")));
    EXPECT_THAT(errors_after([](json::object& c) { c["log"] = json::object{{"format", "xml"}}; }),
                ElementsAre(::testing::StartsWith("/log/format: ")));
    EXPECT_THAT(errors_after([](json::object& c) { c["log"] = json::object{{"colour", true}}; }),
                ElementsAre("/log/colour: unknown key"));
}

}  // namespace
}  // namespace giosg
