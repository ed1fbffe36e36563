// The identify stage: one answer to "who is calling", with the reason a caller is not known.
#include "identity/identify.hpp"

#include <gtest/gtest.h>

#include "common/sha256.hpp"

namespace giosg {
namespace {

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
    const Identity who = identify(table, {"Token support-key", 1});
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client->name, "support");
    EXPECT_EQ(who.client_index, 1u);
    EXPECT_TRUE(who.detail.empty());
}

TEST(Identify, MissingAuthorizationSaysNoCredentialsWereProvided) {
    const Identity who = identify(two_clients(), {"", 0});
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.client, nullptr);
    EXPECT_EQ(who.detail, "Authentication credentials were not provided.");
}

TEST(Identify, TwoAuthorizationHeadersAreRefusedEvenWhenTheFirstIsValid) {
    const Identity who = identify(two_clients(), {"Token billing-key", 2});
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.detail, "More than one Authorization header.");
}

TEST(Identify, UnknownKeySaysInvalidToken) {
    const Identity who = identify(two_clients(), {"Bearer someone-else", 1});
    EXPECT_EQ(who.reason, Reason::not_authenticated);
    EXPECT_EQ(who.detail, "Invalid token.");
}

}  // namespace
}  // namespace giosg
