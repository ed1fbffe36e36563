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

}  // namespace
}  // namespace giosg::http
