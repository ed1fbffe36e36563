// mTLS identity (docs/reference.md §7) end to end: client certificates made at test time by a
// clients' CA, verified by OpenSSL in the real server, mapped by SAN URI, SAN DNS or subject CN.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "admin/metrics.hpp"
#include "common/sha256.hpp"
#include "tls_fixture.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr const char* kBillingKey = "billing-mtls-key-0123456789abcdef";

std::string str(const boost::json::object& record, std::string_view key) {
    const auto* v = record.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<none>");
}

class Mtls : public TlsFixture {
protected:
    void SetUp() override {
        TlsFixture::SetUp();
        clients_ca_ = std::make_unique<TestCa>(dir_, "clients-ca");
        rogue_ca_ = std::make_unique<TestCa>(dir_, "rogue-ca");
        billing_ = clients_ca_->issue("billing", spec("billing", {"URI:spiffe://corp.example/billing"}));
        reporter_ = clients_ca_->issue("reporter", spec("", {"DNS:reporter.corp.example"}));
        batch_ = clients_ca_->issue("batch", spec("batch-job", {}));
        nobody_ = clients_ca_->issue("nobody", spec("nobody", {"URI:spiffe://corp.example/nobody"}));
        CertSpec expired = spec("billing", {"URI:spiffe://corp.example/billing"});
        expired.not_before_s = -3 * 86400;
        expired.not_after_s = -86400;
        expired_ = clients_ca_->issue("expired", expired);
        rogue_ = rogue_ca_->issue("rogue", spec("billing", {"URI:spiffe://corp.example/billing"}));
    }

    static CertSpec spec(std::string cn, std::vector<std::string> san) {
        CertSpec s;
        s.common_name = std::move(cn);
        s.san = std::move(san);
        return s;
    }

    [[nodiscard]] HarnessOptions mtls_options() const {
        HarnessOptions o = options(R"("client_ca_file": )" + quoted(clients_ca_->ca_file()));
        const std::string common = R"("credential": "giosg", "scopes": ["users"], "organizations": ["*"])";
        o.clients_json = R"(    "svc-billing": {"mtls": {"san_uri": "spiffe://corp.example/billing"}, "keys": [{"id": "k1", "sha256": ")" +
                         format_key_digest(sha256(kBillingKey)) + R"("}], )" + common + "},\n" +
                         R"(    "svc-reporter": {"mtls": {"san_dns": "reporter.corp.example"}, )" + common + "},\n" +
                         R"(    "svc-batch": {"mtls": {"subject_cn": "batch-job"}, )" + common + "},\n";
        return o;
    }

    [[nodiscard]] TlsClientOptions with(const TestCert& cert) const {
        TlsClientOptions c = client();
        c.cert_file = cert.cert_file();
        c.key_file = cert.key_file();
        return c;
    }

    std::unique_ptr<TestCa> clients_ca_;
    std::unique_ptr<TestCa> rogue_ca_;
    TestCert billing_, reporter_, batch_, nobody_, expired_, rogue_;
};

TEST_F(Mtls, AVerifiedCertificateIdentifiesItsClientBySanUriSanDnsOrCn) {
    Harness h(mtls_options());
    for (const TestCert* cert : {&billing_, &reporter_, &batch_}) {
        const auto r = tls_request(h.port(), with(*cert), "GET", kUsersMe);
        ASSERT_TRUE(r) << cert->cert_file();
        EXPECT_EQ(r->status, 200) << r->body;
    }
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 3u);
    for (const auto& request : received)
        EXPECT_EQ(request.header("Authorization"), "Token " + std::string(kUpstreamToken));
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(str(records[0], "client"), "svc-billing");
    EXPECT_EQ(str(records[1], "client"), "svc-reporter");
    EXPECT_EQ(str(records[2], "client"), "svc-batch");
    for (const auto& record : records) EXPECT_EQ(str(record, "identity"), "mtls");
}

TEST_F(Mtls, AVerifiedButUnmappedCertificateIs401UnlessAKeyIdentifies) {
    Harness h(mtls_options());
    const auto alone = tls_request(h.port(), with(nobody_), "GET", kUsersMe);
    ASSERT_TRUE(alone);
    EXPECT_EQ(alone->status, 401);
    EXPECT_EQ(std::string(alone->json().at("code").as_string()), "not_authenticated");
    const auto with_key = tls_request(h.port(), with(nobody_), "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(with_key);
    EXPECT_EQ(with_key->status, 200);
    // The certificate is optional: keys still work over a listener that asks for one.
    const auto no_cert = tls_request(h.port(), client(), "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(no_cert);
    EXPECT_EQ(no_cert->status, 200);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(str(records[0], "auth_error"), "mtls_unknown_certificate");
    EXPECT_EQ(str(records[0], "client"), "<none>");
    EXPECT_EQ(str(records[1], "identity"), "key");
    EXPECT_EQ(str(records[1], "client"), "full");
}

TEST_F(Mtls, AnExpiredOrUntrustedCertificateEndsTheHandshake) {
    Harness h(mtls_options());
    for (const TestCert* cert : {&expired_, &rogue_}) {
        // With TLS 1.3 the client may finish its side before the server has judged its
        // certificate: the refusal then arrives as an alert instead of a response.
        const auto r = tls_request(h.port(), with(*cert), "GET", kUsersMe, {auth(kKeyFull)});
        EXPECT_FALSE(r) << cert->cert_file() << ": " << (r ? r->status : 0);
    }
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (h.metrics().shard(0).tls_handshake_failures.load() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    EXPECT_EQ(h.metrics().shard(0).tls_handshake_failures.load(), 2u);
    EXPECT_TRUE(h.mock().received().empty());
    EXPECT_TRUE(h.audit_records(0, 100ms).empty());
}

TEST_F(Mtls, AKeyBesideTheCertificateMustNameTheSameClient) {
    Harness h(mtls_options());
    const auto same = tls_request(h.port(), with(billing_), "GET", kUsersMe, {auth(kBillingKey)});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 200);
    const auto other = tls_request(h.port(), with(billing_), "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 401);
    EXPECT_EQ(std::string(other->json().at("code").as_string()), "not_authenticated");
    EXPECT_EQ(other->body.find("conflict"), std::string::npos) << other->body;  // the reason stays in the audit
    const auto wrong = tls_request(h.port(), with(billing_), "GET", kUsersMe, {auth("not-a-key-0123456789abcdef")});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_EQ(h.mock().received().size(), 1u);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(str(records[0], "identity"), "mtls+key:k1");
    EXPECT_EQ(str(records[0], "client"), "svc-billing");
    EXPECT_EQ(str(records[1], "identity"), "mtls+key");
    EXPECT_EQ(str(records[1], "auth_error"), "conflicting_identities");
    EXPECT_EQ(str(records[1], "client"), "<none>");
    EXPECT_EQ(str(records[2], "auth_error"), "unknown_key");
}

}  // namespace
}  // namespace giosg::testing
