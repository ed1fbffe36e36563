// The identify stage with what the connection proves (docs/reference.md §7): a verified client
// certificate's names or a unix peer's uid, alone or beside a key in the Authorization field.
#include "identity/identify.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "common/sha256.hpp"

namespace giosg {
namespace {

const std::chrono::system_clock::time_point kNow = std::chrono::sys_days(std::chrono::year(2026) / 12 / 4);

ClientTable transport_clients() {
    std::vector<ClientConfig> clients(4);
    clients[0].name = "billing";
    clients[0].mtls = MtlsMatch{MtlsMatch::Field::san_uri, "spiffe://corp.example/billing"};
    clients[0].keys.push_back(ClientKey{"q4", sha256("billing-key"), std::nullopt});
    clients[1].name = "support";
    clients[1].mtls = MtlsMatch{MtlsMatch::Field::san_dns, "support.corp.example"};
    clients[1].key_sha256 = sha256("support-key");
    clients[2].name = "legacy";
    clients[2].mtls = MtlsMatch{MtlsMatch::Field::subject_cn, "legacy-batch"};
    clients[3].name = "sidecar";
    clients[3].unix_uid = 1001;
    return ClientTable(std::move(clients));
}

Peer certificate(std::vector<std::string> uris, std::vector<std::string> dns = {},
                 std::optional<std::string> cn = std::nullopt) {
    Peer peer;
    peer.certificate = PeerCertificate{std::move(uris), std::move(dns), std::move(cn)};
    return peer;
}

Peer uid(std::uint32_t value) {
    Peer peer;
    peer.uid = value;
    return peer;
}

TEST(IdentifyTransport, EachCertificateNameKindIdentifiesItsClientExactly) {
    const auto table = transport_clients();
    const Peer by_uri = certificate({"spiffe://corp.example/billing"});
    const Peer by_dns = certificate({}, {"other.example", "support.corp.example"});
    const Peer by_cn = certificate({}, {}, "legacy-batch");
    const Identity a = identify(table, {"", 0, &by_uri}, kNow);
    const Identity b = identify(table, {"", 0, &by_dns}, kNow);
    const Identity c = identify(table, {"", 0, &by_cn}, kNow);
    ASSERT_TRUE(a.known() && b.known() && c.known());
    EXPECT_EQ(a.client->name, "billing");
    EXPECT_EQ(b.client->name, "support");
    EXPECT_EQ(c.client->name, "legacy");
    EXPECT_EQ(identity_label(a), "mtls");
    // Exact: no prefix, case or wildcard matching; a CN is not a SAN and the other way round.
    for (const Peer& near : {certificate({"spiffe://corp.example/billing/x"}), certificate({"SPIFFE://corp.example/billing"}),
                             certificate({}, {"*.corp.example"}), certificate({}, {"legacy-batch"}),
                             certificate({}, {}, "support.corp.example")}) {
        const Identity who = identify(table, {"", 0, &near}, kNow);
        EXPECT_FALSE(who.known());
        EXPECT_EQ(who.auth_error, "mtls_unknown_certificate");
        EXPECT_EQ(who.reason, Reason::not_authenticated);
    }
}

TEST(IdentifyTransport, ACertificateNamingTwoClientsIdentifiesNobody) {
    const auto table = transport_clients();
    const Peer both = certificate({"spiffe://corp.example/billing"}, {"support.corp.example"});
    EXPECT_EQ(identify(table, {"", 0, &both}, kNow).auth_error, "mtls_ambiguous_certificate");
    EXPECT_FALSE(identify(table, {"Token billing-key", 1, &both}, kNow).known());
}

TEST(IdentifyTransport, TheUidOfAUnixPeerIdentifiesItsClient) {
    const auto table = transport_clients();
    const Peer sidecar = uid(1001);
    const Identity who = identify(table, {"", 0, &sidecar}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client->name, "sidecar");
    EXPECT_EQ(identity_label(who), "uid");
    const Peer stranger = uid(1002);
    const Identity nobody = identify(table, {"", 0, &stranger}, kNow);
    EXPECT_FALSE(nobody.known());
    EXPECT_EQ(nobody.auth_error, "uid_unknown");
}

TEST(IdentifyTransport, AKeyBesideACertificateMustNameTheSameClient) {
    const auto table = transport_clients();
    const Peer billing = certificate({"spiffe://corp.example/billing"});
    const Identity same = identify(table, {"Token billing-key", 1, &billing}, kNow);
    ASSERT_TRUE(same.known());
    EXPECT_EQ(same.client->name, "billing");
    EXPECT_EQ(identity_label(same), "mtls+key");
    EXPECT_EQ(same.key_id, "q4");

    const Identity other = identify(table, {"Token support-key", 1, &billing}, kNow);
    EXPECT_FALSE(other.known());
    EXPECT_EQ(other.client, nullptr);
    EXPECT_EQ(other.auth_error, "conflicting_identities");
    EXPECT_EQ(other.detail, "Invalid token.");
    EXPECT_EQ(identity_label(other), "mtls+key");

    // The key is checked even though the certificate already named the client.
    const Identity bad = identify(table, {"Token wrong-key", 1, &billing}, kNow);
    EXPECT_FALSE(bad.known());
    EXPECT_EQ(bad.auth_error, "unknown_key");
    const Identity twice = identify(table, {"Token billing-key", 2, &billing}, kNow);
    EXPECT_FALSE(twice.known());
}

TEST(IdentifyTransport, AKeyBesideAUidMustNameTheSameClient) {
    const auto table = transport_clients();
    const Peer sidecar = uid(1001);
    const Identity other = identify(table, {"Token billing-key", 1, &sidecar}, kNow);
    EXPECT_FALSE(other.known());
    EXPECT_EQ(other.auth_error, "conflicting_identities");
    EXPECT_EQ(identity_label(other), "uid+key");
}

TEST(IdentifyTransport, AnUnmappedCertificateOrUidLeavesTheKeyToIdentify) {
    const auto table = transport_clients();
    const Peer unmapped = certificate({"spiffe://corp.example/unknown"});
    const Identity who = identify(table, {"Token support-key", 1, &unmapped}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.client->name, "support");
    EXPECT_EQ(identity_label(who), "key");
    const Peer stranger = uid(4242);
    EXPECT_TRUE(identify(table, {"Token support-key", 1, &stranger}, kNow).known());
}

}  // namespace
}  // namespace giosg
