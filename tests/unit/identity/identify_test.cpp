// The identify stage: one answer to "who is calling", with the reason a caller is not known.
#include "identity/identify.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "common/sha256.hpp"

namespace giosg {
namespace {

using std::chrono::hours;
using std::chrono::sys_days;
using namespace std::chrono_literals;

// A fixed clock: identify() takes the time as a value.
const std::chrono::system_clock::time_point kNow = sys_days(std::chrono::year(2026) / 12 / 4) + hours(12);

ClientTable two_clients() {
    std::vector<ClientConfig> clients(2);
    clients[0].name = "billing";
    clients[0].key_sha256 = sha256("billing-key");
    clients[1].name = "support";
    clients[1].key_sha256 = sha256("support-key");
    return ClientTable(std::move(clients));
}

TEST(Identify, KnownKeyNamesTheClientAndItsIndex) {
    const auto table = two_clients();
    const Identity who = identify(table, {"Token support-key", 1}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client->name, "support");
    EXPECT_EQ(who.client_index, 1u);
    EXPECT_TRUE(who.detail.empty());
}

TEST(Identify, MissingAuthorizationSaysNoCredentialsWereProvided) {
    const Identity who = identify(two_clients(), {"", 0}, kNow);
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.client, nullptr);
    EXPECT_EQ(who.detail, "Authentication credentials were not provided.");
}

TEST(Identify, TwoAuthorizationHeadersAreRefusedEvenWhenTheFirstIsValid) {
    const Identity who = identify(two_clients(), {"Token billing-key", 2}, kNow);
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.detail, "More than one Authorization header.");
}

TEST(Identify, UnknownKeySaysInvalidToken) {
    const Identity who = identify(two_clients(), {"Bearer someone-else", 1}, kNow);
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.detail, "Invalid token.");
}

// ---- keys with ids and expiry (docs/reference.md §7) -------------------------------------------------

ClientTable rotating_clients() {
    std::vector<ClientConfig> clients(2);
    clients[0].name = "billing";
    clients[0].keys.push_back(ClientKey{"2026-q3", sha256("old-key"), kNow - hours(1)});
    clients[0].keys.push_back(ClientKey{"2026-q4", sha256("new-key"), kNow + hours(24)});
    clients[1].name = "support";
    clients[1].key_sha256 = sha256("support-key");
    clients[1].keys.push_back(ClientKey{"forever", sha256("support-key-2"), std::nullopt});
    return ClientTable(std::move(clients));
}

TEST(IdentifyKeys, KeyWithIdIsIdentifiedWithItsId) {
    const auto table = rotating_clients();
    const Identity who = identify(table, {"Bearer new-key", 1}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client->name, "billing");
    EXPECT_EQ(who.kind, IdentityKind::key);
    EXPECT_EQ(who.key_id, "2026-q4");
}

TEST(IdentifyKeys, ShorthandKeyHasNoId) {
    const auto table = rotating_clients();
    const Identity who = identify(table, {"Token support-key", 1}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client_index, 1u);
    EXPECT_EQ(who.kind, IdentityKind::key);
    EXPECT_TRUE(who.key_id.empty());
    EXPECT_EQ(identify(table, {"Token support-key-2", 1}, kNow).key_id, "forever");
}

TEST(IdentifyKeys, KeyPastNotAfterIsRefusedLikeAnUnknownOne) {
    const auto table = rotating_clients();
    const Identity expired = identify(table, {"Bearer old-key", 1}, kNow);
    const Identity unknown = identify(table, {"Bearer no-such-key", 1}, kNow);
    EXPECT_FALSE(expired.known());
    EXPECT_EQ(expired.client, nullptr);
    EXPECT_EQ(expired.detail, unknown.detail);  // the response says nothing more
    EXPECT_EQ(expired.auth_error, "key_expired");
    EXPECT_EQ(unknown.auth_error, "unknown_key");
}

TEST(IdentifyKeys, NotAfterIsTheFirstInstantTheKeyIsRefused) {
    const auto table = rotating_clients();
    const auto not_after = kNow + hours(24);
    EXPECT_TRUE(identify(table, {"Bearer new-key", 1}, not_after - 1ms).known());
    EXPECT_FALSE(identify(table, {"Bearer new-key", 1}, not_after).known());
    // The old key was valid before its not_after: the clock decides, nothing else.
    EXPECT_TRUE(identify(table, {"Bearer old-key", 1}, kNow - hours(2)).known());
}

TEST(IdentifyKeys, JwtShapedTokenWithoutJwtConfigIsRefused) {
    const auto table = rotating_clients();
    // eyJhbGciOiJSUzI1NiJ9 = {"alg":"RS256"}
    const Identity who = identify(table, {"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", 1}, kNow);
    EXPECT_FALSE(who.known());
    EXPECT_EQ(who.auth_error, "jwt_not_configured");
}

}  // namespace
}  // namespace giosg
