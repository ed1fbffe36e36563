// The TLS listener (docs/reference.md §7, `tls`) end to end: certificates made at test time with
// OpenSSL, a real TLS client (Asio's ssl stream), the real server and the mock upstream.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <boost/asio/error.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "admin/metrics.hpp"
#include "harness.hpp"
#include "tls_fixture.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";

std::uint64_t handshake_failures(Harness& h) {
    return h.metrics().shard(0).tls_handshake_failures.load(std::memory_order_relaxed);
}

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

TEST_F(TlsFixture, ServesKeepAliveRequestsOverTls13WithAlpnHttp11) {
    Harness h(options());
    TlsConnection c(h.port(), client());
    ASSERT_FALSE(c.handshake());
    EXPECT_EQ(c.alpn(), "http/1.1");
    EXPECT_EQ(c.version(), "TLSv1.3");
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send(std::string("GET ") + kUsersMe + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token " +
                           kKeyFull + "\r\n\r\n"));
        const auto r = c.read_response();
        ASSERT_TRUE(r) << "request " << i;
        EXPECT_EQ(r->status, 200) << r->body;
    }
    EXPECT_EQ(h.mock().received().size(), 3u);
    EXPECT_EQ(handshake_failures(h), 0u);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].at("client").as_string(), "full");
}

TEST_F(TlsFixture, Tls12WithModernCiphersIsAcceptedAndOlderVersionsAreNot) {
    Harness h(options());
    auto tls12 = client();
    tls12.max_version = TLS1_2_VERSION;
    TlsConnection c(h.port(), tls12);
    ASSERT_FALSE(c.handshake());
    EXPECT_EQ(c.version(), "TLSv1.2");

    auto tls11 = client();
    tls11.min_version = TLS1_VERSION;
    tls11.max_version = TLS1_1_VERSION;
    TlsConnection old(h.port(), tls11);
    EXPECT_TRUE(old.handshake());
    EXPECT_TRUE(wait_for([&] { return handshake_failures(h) == 1; }, 2s));
}

TEST_F(TlsFixture, MinVersion13RefusesTls12) {
    Harness h(options(R"("min_version": "1.3")"));
    auto tls12 = client();
    tls12.max_version = TLS1_2_VERSION;
    TlsConnection c(h.port(), tls12);
    EXPECT_TRUE(c.handshake());
    const auto r = tls_request(h.port(), client(), "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(TlsFixture, AClientOfferingOnlyAnotherProtocolIsRefusedAndNoAlpnIsFine) {
    Harness h(options());
    auto h2 = client();
    h2.alpn = {"h2"};
    TlsConnection c(h.port(), h2);
    EXPECT_TRUE(c.handshake());
    auto none = client();
    none.alpn.clear();
    const auto r = tls_request(h.port(), none, "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(TlsFixture, AStalledOrPlainTextHandshakeEndsAtItsDeadlineAndIsCounted) {
    Harness h(options(R"("handshake_timeout_ms": 300)"));
    const auto start = std::chrono::steady_clock::now();
    RawConnection silent(h.port());
    EXPECT_TRUE(silent.closed_by_peer(3s));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 2500ms);

    RawConnection plain(h.port());
    plain.send(std::string("GET ") + kUsersMe + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    EXPECT_FALSE(plain.read_response(1s));  // no HTTP answer on a TLS port
    EXPECT_TRUE(wait_for([&] { return handshake_failures(h) == 2; }, 2s)) << handshake_failures(h);
    EXPECT_NE(h.metrics().render().find("giosg_gateway_tls_handshake_failures_total{worker=\"0\"} 2"),
              std::string::npos);
    // Neither was a request: no audit record, nothing forwarded.
    EXPECT_TRUE(h.mock().received().empty());
    const auto ok = tls_request(h.port(), client(), "GET", kUsersMe, {auth(kKeyFull)});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(h.audit_records(1).size(), 1u);
}

TEST_F(TlsFixture, LinksAreRewrittenOntoHttpsOverTls) {
    Harness h(options());
    const auto r = tls_request(h.port(), client(), "GET", "/api/v5/orgs/" + std::string(kOrg) + "/teams",
                               {auth(kKeyFull)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    const auto next = r->json().at("next");
    ASSERT_TRUE(next.is_string()) << r->body;
    EXPECT_EQ(std::string(next.as_string()).rfind("https://localhost/", 0), 0u) << next;
}

TEST_F(TlsFixture, AKeyThatDoesNotMatchTheCertificateStopsTheStartNamingTheSetting) {
    CertSpec other;
    other.common_name = "other";
    const auto stranger = ca_->issue("stranger", other);
    HarnessOptions o;
    o.policy_source = "file";
    o.top_json = R"("tls": {"cert_file": )" + quoted(server_.cert_file()) + R"(, "key_file": )" +
                 quoted(stranger.key_file()) + "}";
    try {
        Harness h(o);
        FAIL() << "the server started";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("/tls/key_file: cannot load"), std::string::npos) << e.what();
    }
}

TEST_F(TlsFixture, TheGatewayEndsTlsWithCloseNotify) {
    Harness h(options());
    TlsConnection c(h.port(), client());
    ASSERT_FALSE(c.handshake());
    // HTTP/1.0: a response of unknown length would be framed by the close, so the close must be
    // a clean TLS one.
    ASSERT_TRUE(c.send(std::string("GET ") + kUsersMe + " HTTP/1.0\r\nHost: localhost\r\nAuthorization: Token " +
                       kKeyFull + "\r\n\r\n"));
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(c.read_end(), boost::asio::error::eof);  // not ssl::error::stream_truncated
}

TEST_F(TlsFixture, SeveralWorkersShareTheOneContext) {
    HarnessOptions o = options();
    o.workers = 2;
    Harness h(o);
    for (int i = 0; i < 8; ++i) {
        const auto r = tls_request(h.port(), client(), "GET", kUsersMe, {auth(kKeyFull)});
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(h.mock().received().size(), 8u);
}

TEST_F(TlsFixture, CheckLoadsTheTlsFilesAsServeWould) {
    Harness h(options());
    const auto good = run_gateway(h.dir(), {"check", "--config", h.config_file().string()}, 30s);
    EXPECT_EQ(good.exit_code, 0) << good.err;
    EXPECT_NE(good.out.find("(TLS)"), std::string::npos) << good.out;
    CertSpec other;
    other.common_name = "other";
    const auto stranger = ca_->issue("stranger", other);
    std::string config = read_text(h.config_file());
    const std::string key = server_.key_file().string();
    config.replace(config.find(key), key.size(), stranger.key_file().string());
    write_text(h.config_file(), config);
    const auto bad = run_gateway(h.dir(), {"check", "--config", h.config_file().string()}, 30s);
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("/tls/key_file: cannot load"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace giosg::testing
