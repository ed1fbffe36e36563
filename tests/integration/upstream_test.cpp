// The forwarding step against an upstream that misbehaves (docs/reference.md §3 step 7): refused, reset
// or invalid answers are 502 `upstream_unavailable`, a late answer is 504 `upstream_timeout`,
// and neither breaks the client's connection or the audit record. Also https upstreams (with
// certificate and host name verification) and more than one worker.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "server/server.hpp"
#include "upstream/catalogue_fetch.hpp"
#include "upstream/connection.hpp"

namespace giosg::testing {
namespace {

// A JSON value as text, for readable assertion messages (strings unquoted).
std::string str(const boost::json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}


using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kOwnedChats = std::string("/api/v5/orgs/") + kOrg + "/owned_chats";

// Small timeouts keep every failure case well under a second.
constexpr const char* kFastUpstream = R"("connect_timeout_ms": 300, "timeout_ms": 300)";

HarnessOptions fast_options() {
    HarnessOptions o;
    o.policy_source = "file";  // the mock then sees only the requests the tests send
    o.upstream_json = kFastUpstream;
    return o;
}

// A loopback port nothing listens on: bound once by us and closed again.
std::uint16_t closed_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    acceptor.close();
    return port;
}

Response get_with_fault(Harness& h, const std::string& fault) {
    return request(h.port(), "GET", kOwnedChats, {auth(kKeyFull), {"X-Mock-Fault", fault}});
}

// A gateway-made error: JSON with `code` and the same `request_id` as the X-Request-Id header.
void expect_gateway_error(const Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    const auto body = r.json().as_object();
    ASSERT_TRUE(body.contains("code")) << r.body;
    EXPECT_EQ(str(body.at("code")), code);
    ASSERT_TRUE(body.contains("request_id")) << r.body;
    ASSERT_TRUE(r.header("X-Request-Id").has_value());
    EXPECT_EQ(str(body.at("request_id")), *r.header("X-Request-Id"));
    EXPECT_TRUE(body.contains("detail"));
}

// The audit record of a forwarded request that got no upstream answer.
// `sent`: the request reached the upstream (so upstream_ms is a number), or no connection was made.
void expect_forwarded_without_answer(Harness& h, const Response& r, int status, std::string_view code,
                                     bool sent = true) {
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u) << h.audit_text();
    const auto& record = records.front();
    EXPECT_EQ(str(record.at("request_id")), r.header("X-Request-Id").value_or("?"));
    EXPECT_EQ(str(record.at("decision")), "allow");
    EXPECT_EQ(str(record.at("code")), code);
    EXPECT_EQ(record.at("status").as_int64(), status);
    ASSERT_TRUE(record.contains("upstream_status"));
    EXPECT_TRUE(record.at("upstream_status").is_null()) << h.audit_text();
    if (sent) {
        ASSERT_TRUE(record.at("upstream_ms").is_number()) << h.audit_text();
        EXPECT_LE(record.at("upstream_ms").to_number<double>(), record.at("duration_ms").to_number<double>())
            << h.audit_text();
    } else {
        EXPECT_TRUE(record.at("upstream_ms").is_null()) << h.audit_text();
    }
    EXPECT_EQ(str(record.at("client")), "full");
    EXPECT_EQ(str(record.at("path")), kOwnedChats);
}

void expect_upstream_fault_gets(const std::string& fault, int status, std::string_view code) {
    Harness h(fast_options());
    const auto started = std::chrono::steady_clock::now();
    const auto r = get_with_fault(h, fault);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    expect_gateway_error(r, status, code);
    expect_forwarded_without_answer(h, r, status, code);
}

TEST(UpstreamFailure, ClosedUpstreamPortGets502) {
    HarnessOptions o = fast_options();
    o.start_mock = false;
    o.upstream_url = "http://127.0.0.1:" + std::to_string(closed_port());
    Harness h(o);
    const auto r = request(h.port(), "GET", kOwnedChats, {auth(kKeyFull)});
    expect_gateway_error(r, 502, "upstream_unavailable");
    expect_forwarded_without_answer(h, r, 502, "upstream_unavailable", false);
}

TEST(UpstreamFailure, UpstreamClosingWithoutAnswerGets502) {
    expect_upstream_fault_gets("close", 502, "upstream_unavailable");
}

TEST(UpstreamFailure, MalformedUpstreamResponseGets502) {
    expect_upstream_fault_gets("malformed", 502, "upstream_unavailable");
}

TEST(UpstreamFailure, UpstreamResponseWithContentLengthAndTransferEncodingGets502) {
    expect_upstream_fault_gets("clte", 502, "upstream_unavailable");
}

// The gateway removes the chunking; a coding applied before it (gzip) cannot be passed on as is.
TEST(UpstreamFailure, UpstreamTransferCodingBesidesChunkedGets502) {
    expect_upstream_fault_gets("gzip-chunked", 502, "upstream_unavailable");
}

TEST(UpstreamFailure, UpstreamBodyBreakingOffGets502) {
    expect_upstream_fault_gets("close-mid-body", 502, "upstream_unavailable");
}

TEST(UpstreamFailure, OversizedUpstreamResponseHeadGets502) {
    expect_upstream_fault_gets("big-headers", 502, "upstream_unavailable");
}

TEST(UpstreamFailure, UpstreamSlowerThanTimeoutGets504) {
    Harness h(fast_options());
    const auto started = std::chrono::steady_clock::now();
    const auto r = get_with_fault(h, "delay=2000");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    expect_gateway_error(r, 504, "upstream_timeout");
    expect_forwarded_without_answer(h, r, 504, "upstream_timeout");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 1500ms) << "the 300 ms upstream timeout was not applied";
}

TEST(UpstreamFailure, UpstreamAnsweringWithinTimeoutIsForwarded) {
    Harness h(fast_options());
    const auto r = get_with_fault(h, "delay=100");
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST(UpstreamFailure, ClientConnectionStaysUsableAfter502) {
    Harness h(fast_options());
    RawConnection c(h.port());
    const std::string auth_line = std::string("Authorization: Token ") + kKeyFull + "\r\n";
    c.send("GET " + kOwnedChats + " HTTP/1.1\r\nHost: gw\r\n" + auth_line +
           "X-Request-Id: first-request\r\nX-Mock-Fault: close\r\n\r\n");
    const auto first = c.read_response();
    ASSERT_TRUE(first.has_value());
    expect_gateway_error(*first, 502, "upstream_unavailable");
    EXPECT_EQ(first->header("X-Request-Id").value_or(""), "first-request");

    c.send("GET " + kOwnedChats + " HTTP/1.1\r\nHost: gw\r\n" + auth_line + "X-Request-Id: second-request\r\n\r\n");
    const auto second = c.read_response();
    ASSERT_TRUE(second.has_value()) << "the connection did not survive the 502";
    EXPECT_EQ(second->status, 200) << second->body;
    EXPECT_EQ(second->header("X-Request-Id").value_or(""), "second-request");
    const auto body = second->json().as_object();
    EXPECT_FALSE(body.contains("code")) << "an error body was delivered as the second response: " << second->body;

    const auto records = h.audit_records(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].at("status").as_int64(), 502);
    EXPECT_EQ(records[1].at("status").as_int64(), 200);
    EXPECT_EQ(records[1].at("upstream_status").as_int64(), 200);
    EXPECT_EQ(str(records[1].at("code")), "ok");
}

TEST(UpstreamTls, HttpsUpstreamWithConfiguredCaIsForwarded) {
    HarnessOptions o = fast_options();
    o.tls = true;
    Harness h(o);
    const auto r = request(h.port(), "GET", kOwnedChats, {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, kOwnedChats);
    EXPECT_EQ(received[0].header("Authorization").value_or(""), std::string("Token ") + kUpstreamToken);
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("upstream_status").as_int64(), 200);
}

TEST(UpstreamTls, HttpsUpstreamPolicyFetchOverTls) {
    HarnessOptions o;
    o.tls = true;
    o.page_size = 50;
    o.upstream_json = kFastUpstream;
    Harness h(o);
    EXPECT_NE(h.policy().origin.find("upstream https://localhost:"), std::string::npos) << h.policy().origin;
    EXPECT_TRUE(h.policy().warnings.empty());
}

// A TLS mock on another loopback address than the certificate names, and a harness pointing at it.
struct MismatchedTlsUpstream {
    fs::path dir = make_temp_dir("giosg-gw-tls");
    std::unique_ptr<mock::GiosgMock> mock;

    explicit MismatchedTlsUpstream(const std::string& host) {
        make_test_certificates(dir);
        mock::MockOptions mo;
        mo.host = host;
        mo.catalogue_file = std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json";
        mo.expected_token = kUpstreamToken;
        mo.tls_cert_file = dir / "server.pem";
        mo.tls_key_file = dir / "server.key";
        mock = std::make_unique<mock::GiosgMock>(mo);
        mock->start();
    }
    ~MismatchedTlsUpstream() {
        mock->stop();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

TEST(UpstreamTls, CertificateNotMatchingHostNameGets502) {
    // The certificate names localhost and 127.0.0.1 only; 127.0.0.2 is loopback too on Linux.
    MismatchedTlsUpstream upstream("127.0.0.2");
    HarnessOptions o = fast_options();
    o.start_mock = false;
    o.upstream_url = "https://127.0.0.2:" + std::to_string(upstream.mock->port());
    o.upstream_json = std::string(kFastUpstream) + R"(, "ca_file": ")" + (upstream.dir / "ca.pem").string() + "\"";
    Harness h(o);
    const auto r = request(h.port(), "GET", kOwnedChats, {auth(kKeyFull)});
    expect_gateway_error(r, 502, "upstream_unavailable");
    expect_forwarded_without_answer(h, r, 502, "upstream_unavailable", false);
    EXPECT_EQ(upstream.mock->request_count(), 0u) << "a request was sent over an unverified TLS connection";
}

TEST(UpstreamTls, CertificateNotTrustedBySystemStoreGets502) {
    MismatchedTlsUpstream upstream("127.0.0.1");
    HarnessOptions o = fast_options();
    o.start_mock = false;
    o.upstream_url = "https://localhost:" + std::to_string(upstream.mock->port());  // no ca_file
    Harness h(o);
    const auto r = request(h.port(), "GET", kOwnedChats, {auth(kKeyFull)});
    expect_gateway_error(r, 502, "upstream_unavailable");
    expect_forwarded_without_answer(h, r, 502, "upstream_unavailable", false);
    EXPECT_EQ(upstream.mock->request_count(), 0u) << "a request was sent over an unverified TLS connection";
}

TEST(UpstreamWorkers, TwoWorkersServeFiftySequentialConnections) {
    HarnessOptions o = fast_options();
    o.workers = 2;
    Harness h(o);
    EXPECT_EQ(h.server().worker_count(), 2u);
    for (int i = 0; i < 50; ++i) {
        const auto r = request(h.port(), "GET", kOwnedChats,
                               {auth(kKeyFull), {"X-Request-Id", "seq-" + std::to_string(i)}});
        ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
        EXPECT_EQ(r.header("X-Request-Id").value_or(""), "seq-" + std::to_string(i));
    }
    const auto records = h.audit_records(50);
    EXPECT_EQ(records.size(), 50u);
    for (const auto& record : records) EXPECT_EQ(record.at("status").as_int64(), 200);
    EXPECT_EQ(h.mock().request_count(), 50u);
}

// ---------------------------------------------------------------------------------------------
// The pool itself, against a loopback listener that accepts and stays silent.

TEST(UpstreamPool, IdleConnectionsPastTheirTtlAreClosedOnRelease) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    std::vector<tcp::socket> accepted;
    std::function<void()> accept_next = [&] {
        acceptor.async_accept([&](const boost::system::error_code& ec, tcp::socket socket) {
            if (ec) return;
            accepted.push_back(std::move(socket));
            accept_next();
        });
    };
    accept_next();

    std::string error;
    UpstreamConfig config;
    config.url = *parse_upstream_url("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), error);
    upstream::Pool pool(ioc.get_executor(), config, nullptr, upstream::Pool::Options{.max_idle = 8, .idle_ttl = 2s});

    std::size_t idle_after_burst = 0, idle_after_reuse = 0, idle_after_sweep = 0;
    bool reused = false;
    auto scenario = [&]() -> asio::awaitable<void> {
        auto sleep = [&](std::chrono::milliseconds d) -> asio::awaitable<void> {
            asio::steady_timer t(ioc, d);
            co_await t.async_wait(asio::use_awaitable);
        };
        // A burst: two connections in use at once, both then idle.
        auto a = co_await pool.acquire();
        auto b = co_await pool.acquire();
        if (!a.connection || !b.connection) co_return;
        pool.release(std::move(a.connection));
        pool.release(std::move(b.connection));
        idle_after_burst = pool.idle_count();
        // Light load afterwards reuses only the most recent one, which stays fresh...
        co_await sleep(1000ms);
        auto c = co_await pool.acquire();
        reused = c.reused;
        pool.release(std::move(c.connection));
        idle_after_reuse = pool.idle_count();
        // ...while the other passes idle_ttl and goes at the next release.
        co_await sleep(1500ms);
        auto d = co_await pool.acquire();
        pool.release(std::move(d.connection));
        idle_after_sweep = pool.idle_count();
        acceptor.close();
    };
    asio::co_spawn(ioc, scenario(), asio::detached);
    ioc.run_for(10s);

    EXPECT_EQ(idle_after_burst, 2u);
    EXPECT_TRUE(reused);
    EXPECT_EQ(idle_after_reuse, 2u);
    EXPECT_EQ(idle_after_sweep, 1u);  // the stale one is closed; the one just used stays
    EXPECT_EQ(pool.stats().opened.load(), 2u);
    EXPECT_EQ(accepted.size(), 2u);
}

}  // namespace
}  // namespace giosg::testing
