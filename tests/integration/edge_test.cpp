// Edge cases found in review: HEAD framing of gateway-made errors, HTTP/1.0 clients and
// unknown-length bodies, the admin listener's HEAD answers, and a stop whose drain runs out.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <thread>

#include "admin/admin.hpp"
#include "admin/metrics.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;

HarnessOptions file_policy() {
    HarnessOptions o;
    o.policy_source = "file";
    return o;
}

TEST(ProxyHead, ErrorAnswerToHeadHasNoBodySoTheNextResponseParses) {
    Harness h(file_policy());
    RawConnection c(h.port());
    // An unknown key: 401, whose JSON body must not be sent for HEAD.
    c.send(std::string("HEAD /api/v5/users/me HTTP/1.1\r\nHost: gw\r\nAuthorization: Token not-a-key") +
           "\r\n\r\nGET /api/v5/users/me HTTP/1.1\r\nHost: gw\r\nAuthorization: Token " + kKeyFull + "\r\n\r\n");
    const auto head = c.read_response(5s, true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 401);
    EXPECT_TRUE(head->body.empty());
    const auto next = c.read_response(5s);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
    const auto records = h.audit_records(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].at("bytes_out").as_int64(), 0);
}

TEST(ProxyHttp10, UnknownLengthBodyIsNeverChunkedToAnHttp10Client) {
    Harness h(file_policy());
    RawConnection c(h.port());
    // 200 000 bytes chunked from the upstream: more than the gateway buffers, so it streams.
    c.send(std::string("GET /api/v5/users/me HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Token ") +
           kKeyFull + "\r\nX-Mock-Fault: chunked-body-bytes=200000\r\n\r\n");
    const std::string raw = c.read_until_close(10s);
    const auto split = raw.find("\r\n\r\n");
    ASSERT_NE(split, std::string::npos);
    const std::string head = raw.substr(0, split);
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
    EXPECT_EQ(raw.size() - split - 4, 200000u);  // framed by the end of the connection
}

TEST(ProxyHttp10, KeepAliveHttp10ClientIsToldTheConnectionStaysOpen) {
    Harness h(file_policy());
    RawConnection c(h.port());
    const std::string req = std::string("GET /api/v5/users/me HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Token ") +
                            kKeyFull + "\r\n\r\n";
    c.send(req);
    const auto first = c.read_response(5s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 200);
    EXPECT_EQ(first->header("Connection"), std::string("keep-alive"));
    c.send(req);
    const auto second = c.read_response(5s);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 200);
}

TEST(Admin, HeadAnswersHaveNoBodyAndMetricsFollowOnTheSameConnection) {
    Metrics metrics({"a"}, 1);
    AdminServer admin(HostPort{"127.0.0.1", 0}, metrics, [] { return true; });
    admin.start();
    RawConnection c(admin.port());
    c.send("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto head = c.read_response(5s, true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    const auto metrics_response = c.read_response(5s);
    ASSERT_TRUE(metrics_response);
    EXPECT_EQ(metrics_response->status, 200);
    EXPECT_NE(metrics_response->body.find("giosg_gateway_policy_endpoints"), std::string::npos);
    admin.stop();
}

TEST(Admin, ReadyzAnswersWhatTheProbeSays) {
    Metrics metrics({}, 1);
    bool ready = false;
    AdminHooks hooks;
    hooks.not_ready = [&] {
        return ready ? std::vector<std::string>{} : std::vector<std::string>{"audit_backlog", "draining"};
    };
    AdminServer admin(HostPort{"127.0.0.1", 0}, metrics, std::move(hooks));
    admin.start();
    const auto not_ready = request(admin.port(), "GET", "/readyz");
    EXPECT_EQ(not_ready.status, 503);
    EXPECT_EQ(not_ready.body, "{\"ready\": false, \"reasons\": [\"audit_backlog\", \"draining\"]}\n");
    ready = true;
    const auto now_ready = request(admin.port(), "GET", "/readyz");
    EXPECT_EQ(now_ready.status, 200);
    EXPECT_EQ(now_ready.body, "{\"ready\": true}\n");
    EXPECT_EQ(request(admin.port(), "GET", "/healthz").status, 200);
    EXPECT_EQ(request(admin.port(), "GET", "/nope").status, 404);
    admin.stop();
}

TEST(LifecycleForced, RequestStillInFlightWhenTheDrainEndsIsAbortedAndAudited) {
    HarnessOptions o = file_policy();
    o.drain = 200ms;
    Harness h(o);
    std::thread client([&] {
        RawConnection c(h.port());
        c.send(std::string("GET /api/v5/users/me HTTP/1.1\r\nHost: gw\r\nX-Mock-Fault: delay=10000\r\n"
                           "X-Request-Id: slow-one\r\nAuthorization: Token ") + kKeyFull + "\r\n\r\n");
        (void)c.read_until_close(5s);
    });
    std::this_thread::sleep_for(200ms);  // the request is now waiting on the upstream
    const auto started = std::chrono::steady_clock::now();
    h.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    client.join();
    const auto records = h.audit_records(1, 0ms);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("request_id").as_string(), "slow-one");
    EXPECT_EQ(records[0].at("code").as_string(), "client_closed");
    EXPECT_EQ(records[0].at("status").as_int64(), 499);
}

}  // namespace
}  // namespace giosg::testing

namespace giosg::testing {
namespace {

HarnessOptions short_header_timeout() {
    HarnessOptions o;
    o.policy_source = "file";
    o.limits_json = R"("header_timeout_ms": 300)";
    return o;
}

TEST(LifecycleIdle, SilentNewConnectionIsClosedAfterHeaderTimeout) {
    Harness h(short_header_timeout());
    RawConnection c(h.port());
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(3)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
    EXPECT_TRUE(h.audit_records(0, std::chrono::milliseconds(0)).empty());  // no request, no record
}

TEST(LifecycleIdle, KeepAliveConnectionMayIdleLongerThanHeaderTimeoutBetweenRequests) {
    Harness h(short_header_timeout());
    RawConnection c(h.port());
    const std::string req = std::string("GET /api/v5/users/me HTTP/1.1\r\nHost: gw\r\nAuthorization: Token ") +
                            kKeyFull + "\r\n\r\n";
    c.send(req);
    ASSERT_TRUE(c.read_response(std::chrono::seconds(5)));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // > header_timeout, < idle_timeout
    c.send(req);
    const auto second = c.read_response(std::chrono::seconds(5));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 200);
}

}  // namespace
}  // namespace giosg::testing
