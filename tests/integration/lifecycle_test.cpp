// A connection's and the server's life: graceful stop (drain in-flight requests, refuse new
// connections, close idle ones), and the request-head limits of docs/reference.md §3 step 1 (slow or
// oversized heads, oversized bodies, framing errors), none of which reaches the upstream.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "harness.hpp"

namespace giosg::testing {
namespace {

// A JSON value as text, for readable assertion messages (strings unquoted).
std::string str(const boost::json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}


using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kOwnedChats = std::string("/api/v5/orgs/") + kOrg + "/owned_chats";
const std::string kPostable = "/api/v5/users/4a1d2c3b/clients";  // POST with no scope
const std::string kAuthLine = std::string("Authorization: Token ") + kKeyFull + "\r\n";

// Policy from the snapshot, so the mock sees only what the gateway forwards.
HarnessOptions file_policy(std::string limits_json = {}) {
    HarnessOptions o;
    o.policy_source = "file";
    o.limits_json = std::move(limits_json);
    o.upstream_json = R"("connect_timeout_ms": 300, "timeout_ms": 2000)";
    return o;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::string get_head(const std::string& target, const std::string& extra = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine + extra + "\r\n";
}

void expect_error(const std::optional<Response>& r, int status, std::string_view code) {
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    const auto body = r->json().as_object();
    ASSERT_TRUE(body.contains("code")) << r->body;
    EXPECT_EQ(str(body.at("code")), code);
    ASSERT_TRUE(body.contains("request_id")) << r->body;
    EXPECT_EQ(str(body.at("request_id")), r->header("X-Request-Id").value_or("?"));
}

// Sends `raw`, expects the error and a closed connection, nothing forwarded, a deny record.
// `check_decision` is off where the limit is only found while reading a body that policy allowed.
void expect_refused(const std::string& raw, int status, std::string_view code, const std::string& limits = {},
                    bool check_decision = true) {
    Harness h(file_policy(limits));
    RawConnection c(h.port());
    c.send(raw);
    const auto r = c.read_response(2s);
    expect_error(r, status, code);
    EXPECT_TRUE(c.closed_by_peer(2s)) << "the connection stayed open after a " << status;
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u) << h.audit_text();
    if (check_decision) {
        EXPECT_EQ(str(records[0].at("decision")), "deny");
    }
    EXPECT_EQ(str(records[0].at("code")), code);
    EXPECT_EQ(records[0].at("status").as_int64(), status);
    EXPECT_EQ(h.mock().request_count(), 0u) << "a refused request reached the upstream";
}

// --- graceful stop -----------------------------------------------------------------------------

TEST(Lifecycle, GracefulStopFinishesRequestInFlight) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(get_head(kOwnedChats, "X-Request-Id: in-flight\r\nX-Mock-Fault: delay=300\r\n"));
    ASSERT_TRUE(wait_until([&] { return h.mock().request_count() >= 1; }, 2s)) << "the request never reached the mock";

    std::thread stopper([&] { h.stop(); });
    const auto r = c.read_response(3s);
    stopper.join();
    ASSERT_TRUE(r.has_value()) << "the in-flight request lost its response";
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->header("X-Request-Id").value_or(""), "in-flight");

    // stop() has returned: the record must already be in the file.
    const auto records = h.audit_records(1, 0ms);
    ASSERT_EQ(records.size(), 1u) << h.audit_text();
    EXPECT_EQ(str(records[0].at("request_id")), "in-flight");
    EXPECT_EQ(records[0].at("status").as_int64(), 200);
    EXPECT_EQ(records[0].at("upstream_status").as_int64(), 200);
    EXPECT_TRUE(c.closed_by_peer(2s)) << "the drained connection stayed open";
}

TEST(Lifecycle, NewConnectionsAreRefusedAfterStop) {
    Harness h(file_policy());
    const auto port = h.port();
    EXPECT_EQ(request(port, "GET", kOwnedChats, {auth(kKeyFull)}).status, 200);
    h.stop();
    EXPECT_ANY_THROW(RawConnection c(port));
}

TEST(Lifecycle, StopClosesIdleKeepAliveConnections) {
    Harness h(file_policy());
    RawConnection used(h.port());
    used.send(get_head(kOwnedChats));
    const auto r = used.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    RawConnection silent(h.port());  // connected, never sent a byte
    std::this_thread::sleep_for(100ms);

    const auto started = Clock::now();
    h.stop();
    EXPECT_LT(Clock::now() - started, 2s) << "stop waited for idle connections instead of closing them";
    EXPECT_TRUE(used.closed_by_peer(1s));
    EXPECT_TRUE(silent.closed_by_peer(1s));
}

// --- request head limits -----------------------------------------------------------------------

TEST(Lifecycle, SlowRequestHeadGets408AndIsClosed) {
    Harness h(file_policy(R"("header_timeout_ms": 300)"));
    RawConnection c(h.port());
    const auto started = Clock::now();
    c.send("GET /api/v5/users/me HTTP/1.1\r\nHost: gw\r\n");  // half a head, then silence
    // Everything up to the close: the 408 must come before it, and the close soon after.
    const std::string raw = c.read_until_close(3s);
    const auto elapsed = Clock::now() - started;
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 1500ms) << "header_timeout_ms 300 was not applied, or the connection stayed open";
    EXPECT_EQ(raw.rfind("HTTP/1.1 408 ", 0), 0u) << "expected a 408 before the close, got: [" << raw << "]";
    if (const auto body = raw.find("\r\n\r\n"); body != std::string::npos && raw.rfind("HTTP/1.1 408 ", 0) == 0) {
        EXPECT_EQ(str(boost::json::parse(raw.substr(body + 4)).at("code")), "request_timeout");
    }
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(str(records[0].at("code")), "request_timeout");
    EXPECT_EQ(records[0].at("status").as_int64(), 408);
    EXPECT_EQ(h.mock().request_count(), 0u);
}

TEST(Lifecycle, OversizedHeadersGet431) {
    expect_refused(get_head(kOwnedChats, "X-Padding: " + std::string(2000, 'p') + "\r\n"), 431, "headers_too_large",
                   R"("max_header_bytes": 1024)");
}

TEST(Lifecycle, OversizedRequestLineGets431) {
    expect_refused(get_head("/api/v5/users/me?q=" + std::string(2000, 'q')), 431, "headers_too_large",
                   R"("max_header_bytes": 1024)");
}

TEST(Lifecycle, ContentLengthAboveLimitGets413BeforeBodyIsSent) {
    // Only the head is sent: the answer must not wait for the 5000 announced bytes.
    expect_refused("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
                       "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
                   413, "payload_too_large", R"("max_body_bytes": 1000)");
}

TEST(Lifecycle, OversizedBodyWithExpectContinueGets413WithoutContinue) {
    expect_refused("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
                       "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
                   413, "payload_too_large", R"("max_body_bytes": 1000)");
}

TEST(Lifecycle, ChunkedBodyAboveLimitGets413) {
    const std::string chunk = std::string(600, 'x');
    expect_refused("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
                       "Transfer-Encoding: chunked\r\n\r\n258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n",
                   413, "payload_too_large", R"("max_body_bytes": 1000)", false);
}

TEST(Lifecycle, ChunkedBodyWithinLimitIsForwarded) {
    Harness h(file_policy(R"("max_body_bytes": 1000)"));
    RawConnection c(h.port());
    c.send("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + "2\r\n{}\r\n0\r\n\r\n");
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_LT(r->status, 300) << r->body;
    ASSERT_EQ(h.mock().request_count(), 1u);
    EXPECT_EQ(h.mock().received()[0].body, "{}");
}

// --- framing errors: 400, nothing forwarded ----------------------------------------------------

TEST(Lifecycle, ContentLengthWithTransferEncodingGets400) {
    expect_refused("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
                       "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                   400, "bad_request");
}

TEST(Lifecycle, TransferEncodingOtherThanChunkedGets400) {
    expect_refused("POST " + kPostable + " HTTP/1.1\r\nHost: gw\r\n" + kAuthLine +
                       "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                   400, "bad_request");
}

TEST(Lifecycle, BareLineFeedGets400) {
    expect_refused("GET /api/v5/users/me HTTP/1.1\r\nHost: gw\n" + kAuthLine + "\r\n", 400, "bad_request");
}

TEST(Lifecycle, ObsoleteLineFoldingGets400) {
    expect_refused(get_head("/api/v5/users/me", "X-Folded: first\r\n second\r\n"), 400, "bad_request");
}

TEST(Lifecycle, SpaceBeforeHeaderColonGets400) {
    expect_refused(get_head("/api/v5/users/me", "X-Spaced : value\r\n"), 400, "bad_request");
}

TEST(Lifecycle, MissingHostGets400) {
    expect_refused("GET /api/v5/users/me HTTP/1.1\r\n" + kAuthLine + "\r\n", 400, "bad_request");
}

TEST(Lifecycle, DotSegmentInPathGets400) {
    expect_refused(get_head("/api/v5/orgs/../users/me"), 400, "bad_request");
}

TEST(Lifecycle, EncodedSlashInPathGets400) {
    expect_refused(get_head("/api/v5/orgs/" + std::string(kOrg) + "%2Fx/owned_chats"), 400, "bad_request");
}

}  // namespace
}  // namespace giosg::testing
