#include "http/forward.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace giosg::http {
namespace {

constexpr std::string_view kAuthorization = "Authorization: Token server-secret\r\n";

/// The upstream head for `raw` (a complete client request head).
std::string upstream_head(const std::string& raw) {
    RequestHead head;
    const auto parsed = parse_request_head(raw, 8192, head);
    EXPECT_EQ(parsed.status, ParseStatus::complete);
    const auto target = parse_target(head.target);
    EXPECT_TRUE(target.ok);
    std::string out = "kept|";
    append_upstream_head(out, head, target.target, "service.giosg.com", kAuthorization, "rid-1");
    return out;
}

TEST(UpstreamHead, StartsWithTheGatewaysFieldsThenKeepsTheClientsInOrder) {
    const std::string out = upstream_head(
        "GET /api/v5/users/me?page_size=5 HTTP/1.1\r\n"
        "Accept: application/json\r\n"
        "Host: gateway.internal\r\n"
        "Traceparent: 00-abc-01\r\n"
        "Accept: text/plain\r\n\r\n");
    EXPECT_EQ(out,
              "kept|"  // appended to, never cleared
              "GET /api/v5/users/me?page_size=5 HTTP/1.1\r\n"
              "Host: service.giosg.com\r\n"
              "Authorization: Token server-secret\r\n"
              "X-Request-Id: rid-1\r\n"
              "Accept: application/json\r\n"
              "Traceparent: 00-abc-01\r\n"
              "Accept: text/plain\r\n");
}

TEST(UpstreamHead, DropsWhatTheGatewayReplacesAndEveryHopByHopField) {
    const std::string out = upstream_head(
        "POST /api/v5/users/me HTTP/1.1\r\n"
        "Host: gateway.internal\r\n"
        "authorization: Bearer internal-key\r\n"
        "X-Request-Id: client-id\r\n"
        "Content-Length: 2\r\n"
        "Expect: 100-continue\r\n"
        "Connection: keep-alive, X-Private\r\n"
        "Keep-Alive: timeout=5\r\n"
        "Proxy-Authorization: Basic eA==\r\n"
        "TE: trailers\r\n"
        "Upgrade: h2c\r\n"
        "X-Private: by-connection\r\n"
        "X-Kept: yes\r\n\r\n");
    EXPECT_EQ(out,
              "kept|POST /api/v5/users/me HTTP/1.1\r\n"
              "Host: service.giosg.com\r\n"
              "Authorization: Token server-secret\r\n"
              "X-Request-Id: rid-1\r\n"
              "X-Kept: yes\r\n");
    EXPECT_EQ(out.find("internal-key"), std::string::npos) << "the caller's key must never go upstream";
}

TEST(UpstreamHead, RemovesTokenQueryParametersFromTheForwardedTarget) {
    const std::string out = upstream_head("GET /api/v5/users/me?token=abc&page=2 HTTP/1.1\r\nHost: g\r\n\r\n");
    EXPECT_EQ(out.substr(0, out.find("\r\n")), "kept|GET /api/v5/users/me?page=2 HTTP/1.1");
}

TEST(UpstreamHead, DropsUnderscoreNamesAndCountsThem) {
    const std::string raw =
        "GET /api/v5/users/me HTTP/1.1\r\nHost: g\r\nX_Request_Id: spoofed\r\nX-Kept: 1\r\n"
        "x_api_user: admin\r\n\r\n";
    RequestHead head;
    ASSERT_EQ(parse_request_head(raw, 8192, head).status, ParseStatus::complete);
    const auto target = parse_target(head.target);
    std::string out;
    const auto dropped = append_upstream_head(out, head, target.target, "service.giosg.com", kAuthorization, "rid-1");
    EXPECT_EQ(dropped, 2u);
    EXPECT_EQ(out.find("spoofed"), std::string::npos);
    EXPECT_EQ(out.find("admin"), std::string::npos);
    EXPECT_NE(out.find("X-Kept: 1\r\n"), std::string::npos);
}

TEST(UpstreamHead, ClientForwardingFieldsNeverReachTheUpstream) {
    const std::string out = upstream_head(
        "GET /api/v5/users/me HTTP/1.1\r\nHost: g\r\nForwarded: for=10.0.0.1\r\n"
        "X-Forwarded-For: 10.0.0.2\r\nx-forwarded-host: evil\r\nX-Forwarded-Proto: http\r\n"
        "X-Real-IP: 10.0.0.3\r\nX-Forwarded: 10.0.0.4\r\nX-Kept: yes\r\n\r\n");
    EXPECT_EQ(out.find("10.0.0"), std::string::npos);
    EXPECT_EQ(out.find("evil"), std::string::npos);
    EXPECT_EQ(out.find("Forwarded-Proto"), std::string::npos);
    EXPECT_NE(out.find("X-Kept: yes\r\n"), std::string::npos);
}

}  // namespace
}  // namespace giosg::http
