// docs/reference.md §7's config keys: "jwt", and per client "keys", "jwt_subject" beside "key_sha256".
#include "support.hpp"

#include <chrono>

#include "config/sections.hpp"

namespace giosg {
namespace {

using namespace config_test;
using std::chrono::sys_days;

json::object key(std::string id, char hex, std::string not_after = {}) {
    json::object k{{"id", id}, {"sha256", digest_of(hex)}};
    if (!not_after.empty()) k["not_after"] = not_after;
    return k;
}

TEST(IdentityConfig, KeysWithIdsAndExpiryAreRead) {
    const Config config = parsed_after([](json::object& c) {
        billing(c).erase("key_sha256");
        billing(c)["keys"] = json::array{key("2026-q3", 'a', "2026-10-01T00:00:00Z"), key("2026-q4", 'b')};
    });
    const auto& keys = config.clients.at(0).keys;
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].id, "2026-q3");
    EXPECT_EQ(keys[0].sha256, parse_key_digest(digest_of('a')).value());
    EXPECT_EQ(keys[0].not_after, sys_days(std::chrono::year(2026) / 10 / 1));
    EXPECT_FALSE(keys[1].not_after);
}

TEST(IdentityConfig, ShorthandAndKeysMayBeCombined) {
    const Config config = parsed_after([](json::object& c) { billing(c)["keys"] = json::array{key("next", 'c')}; });
    EXPECT_EQ(config.clients.at(0).keys.size(), 1u);
}

TEST(IdentityConfig, KeyProblemsNameTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["keys"] = json::array{key("a b", 'a')}; }),
                ElementsAre(HasSubstr("/clients/billing/keys/0/id: name must be")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["keys"] = json::array{key("k", 'a', "2027-02-30T00:00:00Z")};
                }),
                ElementsAre(HasSubstr("/clients/billing/keys/0/not_after: must be an RFC 3339 time")));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["keys"] = json::array{key("k", 'a'), key("k", 'b')}; }),
                ElementsAre("/clients/billing/keys/1/id: duplicate key id \"k\""));
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["keys"] = json::array{json::object{{"id", "k"}, {"sha256", digest_of('a')}, {"x", 1}}};
                }),
                ElementsAre("/clients/billing/keys/0/x: unknown key"));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["keys"] = json::array{}; }),
                ElementsAre("/clients/billing/keys: must list at least one key"));
}

TEST(IdentityConfig, AKeyBelongsToOneClient) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["keys"] = json::array{key("dup", kDigestHex[0])};
                    billing(c)["keys"].as_array()[0].as_object()["sha256"] = billing(c)["key_sha256"];
                }),
                ElementsAre("/clients/billing/keys/0/sha256: same key as client \"billing\""));
}

TEST(IdentityConfig, JwtSectionAndSubjects) {
    const Config config = parsed_after([](json::object& c) {
        c["jwt"] = {{"issuer", "https://idp"}, {"audience", "gw"}, {"jwks_file", "jwks.json"}, {"leeway_s", 5}};
        billing(c).erase("key_sha256");
        billing(c)["jwt_subject"] = "svc-billing";
    });
    ASSERT_TRUE(config.jwt);
    EXPECT_EQ(config.jwt->issuer, "https://idp");
    EXPECT_EQ(config.jwt->audience, "gw");
    EXPECT_EQ(config.jwt->jwks_file, kBaseDir / "jwks.json");
    EXPECT_EQ(config.jwt->leeway, std::chrono::seconds(5));
    EXPECT_EQ(config.clients.at(0).jwt_subject, "svc-billing");
}

TEST(IdentityConfig, JwtProblems) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["jwt_subject"] = "svc"; }),
                ElementsAre("/clients/billing/jwt_subject: needs the top-level \"jwt\" section"));
    EXPECT_THAT(errors_after([](json::object& c) { c["jwt"] = {{"issuer", "i"}, {"audience", "a"}}; }),
                ElementsAre("/jwt/jwks_file: missing required key"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["jwt"] = {{"issuer", "i"}, {"audience", "a"}, {"jwks_file", "j"}, {"leeway_s", -1}};
                }),
                ElementsAre(HasSubstr("/jwt/leeway_s")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["jwt"] = {{"issuer", "i"}, {"audience", "a"}, {"jwks_file", "j"}};
                    billing(c)["jwt_subject"] = "svc";
                    json::object other = billing(c);
                    other["key_sha256"] = digest_of('e');
                    section(c, "clients")["other"] = other;
                }),
                ElementsAre("/clients/other/jwt_subject: same subject as client \"billing\""));
}

TEST(IdentityConfig, Rfc3339) {
    using namespace std::chrono;
    EXPECT_EQ(config_detail::parse_rfc3339("2027-01-01T00:00:00Z"), sys_days(year(2027) / 1 / 1));
    EXPECT_EQ(config_detail::parse_rfc3339("2027-01-01T02:00:00+02:00"), sys_days(year(2027) / 1 / 1));
    EXPECT_EQ(config_detail::parse_rfc3339("2027-01-01T00:00:00.5Z"), sys_days(year(2027) / 1 / 1) + 500ms);
    for (const char* bad : {"2027-01-01", "2027-01-01T00:00:00", "2027-13-01T00:00:00Z", "2027-01-01T24:00:00Z",
                            "2027-01-01T00:00:00Zjunk", "2027-01-01 00:00:00Z"})
        EXPECT_FALSE(config_detail::parse_rfc3339(bad)) << bad;
}

}  // namespace
}  // namespace giosg

namespace giosg {
namespace {

using namespace config_test;

TEST(IdentityConfig, AllZeroDigestIsNoKey) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["key_sha256"] = digest_of('0'); }),
                ElementsAre(HasSubstr("/clients/billing/key_sha256: must be")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["keys"] = json::array{json::object{{"id", "z"}, {"sha256", digest_of('0')}}};
                }),
                ElementsAre(HasSubstr("/clients/billing/keys/0/sha256: must be")));
}

}  // namespace
}  // namespace giosg
