// Gateway-made error responses: one maker for every refusal (docs/reference.md §3).
#include "http/error_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace giosg::http {
namespace {

struct Made {
    std::string head;
    std::string body;
};

// Field by field: GCC 12 warns about designated initializers that leave members to their defaults.
ErrorReply reply(Reason reason, std::string_view request_id) {
    ErrorReply r;
    r.reason = reason;
    r.request_id = request_id;
    return r;
}

Made make(const ErrorReply& reply) {
    Made made;
    make_error_response(reply, made.head, made.body);
    return made;
}

TEST(ErrorResponse, NotAuthenticatedCarriesWwwAuthenticateAndTheDetail) {
    auto r = reply(Reason::not_authenticated, "rid-1");
    r.detail = "Invalid token.";
    const auto made = make(r);
    EXPECT_EQ(made.body, R"({"detail": "Invalid token.", "code": "not_authenticated", "request_id": "rid-1"})");
    EXPECT_EQ(made.head,
              "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(made.body.size()) +
                  "\r\nX-Request-Id: rid-1\r\nWWW-Authenticate: Bearer realm=\"giosg-gateway\"\r\n\r\n");
}

TEST(ErrorResponse, MethodNotAllowedNamesTheMethodAndListsAllow) {
    auto r = reply(Reason::method_not_allowed, "r");
    r.method = "PATCH";
    r.allow = "GET, OPTIONS";
    r.close = true;
    const auto made = make(r);
    EXPECT_EQ(made.body, R"({"detail": "Method \"PATCH\" not allowed.", "code": "method_not_allowed", "request_id": "r"})");
    EXPECT_NE(made.head.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos);
    EXPECT_NE(made.head.find("\r\nAllow: GET, OPTIONS\r\n"), std::string::npos);
    EXPECT_NE(made.head.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
}

TEST(ErrorResponse, EmptyDetailTakesTheReasonsDefault) {
    const auto made = make(reply(Reason::unknown_endpoint, "r"));
    EXPECT_NE(made.body.find(std::string("\"detail\": \"") + std::string(reason_detail(Reason::unknown_endpoint))),
              std::string::npos);
    EXPECT_EQ(made.head.find("Allow:"), std::string::npos);
    EXPECT_EQ(made.head.find("WWW-Authenticate"), std::string::npos);
}

TEST(ErrorResponse, Http10ClientThatStaysIsToldKeepAlive) {
    auto r = reply(Reason::insufficient_scope, "r");
    r.version_minor = 0;
    const auto made = make(r);
    EXPECT_NE(made.head.find("\r\nConnection: keep-alive\r\n\r\n"), std::string::npos);
}

TEST(ErrorResponse, DetailIsJsonEscaped) {
    auto r = reply(Reason::bad_request, "r");
    r.detail = "a \"quoted\" \\ thing";
    const auto made = make(r);
    EXPECT_NE(made.body.find(R"("detail": "a \"quoted\" \\ thing")"), std::string::npos);
}

}  // namespace
}  // namespace giosg::http
