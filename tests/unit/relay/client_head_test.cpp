// The client's response head for an upstream answer: what passes, what the gateway frames.
#include "relay/client_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace giosg::relay {
namespace {

// Links are judged against an upstream at https://service.giosg.com; the gateway is reached as
// http://gw.internal:8080 (the Host fallback).
struct Links {
    Origin upstream = *parse_origin("https://service.giosg.com");
    std::optional<PublicOrigin> configured;
    LinkContext context{upstream, configured, "http", std::string_view("gw.internal:8080")};
};

// The head's fields are views into `raw`, so every raw head here outlives its parse.
http::ResponseHead parse(const std::string& raw, bool head_request = false) {
    http::ResponseHead head;
    const auto result = http::parse_response_head(raw, 8192, head_request, head);
    EXPECT_EQ(result.status, http::ParseStatus::complete);
    return head;
}

TEST(ClientHead, HopByHopConnectionListedAndUpstreamRequestIdFieldsDoNotPass) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive, X-Secret\r\n"
        "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Request-Id: upstream-id\r\nContent-Length: 2\r\n\r\n";
    const auto response = parse(raw);
    std::string out;
    Links links;
    append_client_fields(out, response, "rid", links.context);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: rid\r\n");
}

TEST(ClientHead, HeadAnswerKeepsTheEntitysContentLengthButA204DropsIt) {
    const std::string head_answer = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n";
    const std::string no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
    Links links;
    std::string out;
    append_client_fields(out, parse(head_answer, true), "r", links.context);
    EXPECT_NE(out.find("Content-Length: 42\r\n"), std::string::npos);
    out.clear();
    append_client_fields(out, parse(no_content), "r", links.context);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

TEST(ClientHead, MissingReasonPhraseGetsTheStandardOne) {
    const std::string raw = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n";
    Links links;
    std::string out;
    append_client_fields(out, parse(raw), "r", links.context);
    EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
}

TEST(ClientHead, LocationOnTheUpstreamOriginIsRewrittenOthersPass) {
    const std::string raw =
        "HTTP/1.1 201 Created\r\nLocation: https://service.giosg.com/api/v5/orgs/o/teams/7?x=1\r\n"
        "Content-Location: https://elsewhere.example/a\r\nLink: <https://service.giosg.com/x>\r\n"
        "Content-Length: 0\r\n\r\n";
    Links links;
    std::string out;
    append_client_fields(out, parse(raw), "r", links.context);
    EXPECT_NE(out.find("\r\nLocation: http://gw.internal:8080/api/v5/orgs/o/teams/7?x=1\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\r\nContent-Location: https://elsewhere.example/a\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nLink: <https://service.giosg.com/x>\r\n"), std::string::npos) << "only the two named fields";
}

TEST(ClientHead, ValidatorsAreHeldAsideWhileTheBodyMayBeRewritten) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-MD5: abc=\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n";
    Links links;
    std::string out;
    std::string held;
    append_client_fields(out, parse(raw), "r", links.context, &held);
    EXPECT_EQ(out.find("ETag"), std::string::npos);
    EXPECT_EQ(held, "ETag: \"v1\"\r\nContent-MD5: abc=\r\n");
    std::string passed;
    append_client_fields(passed, parse(raw), "r", links.context);
    EXPECT_NE(passed.find("ETag: \"v1\"\r\n"), std::string::npos);
}

TEST(ClientHead, FramingFollowsWhatIsInHandAndTheClientsVersion) {
    const std::string chunked_raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string sized_raw = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    const std::string not_modified_raw = "HTTP/1.1 304 Not Modified\r\n\r\n";
    const auto chunked = parse(chunked_raw);
    EXPECT_EQ(choose_framing(chunked, true, 1), Framing::content_length);   // whole body buffered
    EXPECT_EQ(choose_framing(chunked, false, 1), Framing::chunked);
    EXPECT_EQ(choose_framing(chunked, false, 0), Framing::until_close);     // HTTP/1.0 cannot chunk
    const auto sized = parse(sized_raw);
    EXPECT_EQ(choose_framing(sized, false, 0), Framing::content_length);
    EXPECT_EQ(choose_framing(parse(not_modified_raw), true, 1), Framing::none);
}

TEST(ClientHead, FramingFieldsAndConnection) {
    std::string out;
    append_client_framing(out, Framing::content_length, 17, false, 1);
    EXPECT_EQ(out, "Content-Length: 17\r\n\r\n");
    out.clear();
    append_client_framing(out, Framing::chunked, 0, true, 1);
    EXPECT_EQ(out, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    out.clear();
    append_client_framing(out, Framing::until_close, 0, false, 0);
    EXPECT_EQ(out, "Connection: close\r\n\r\n");
    out.clear();
    append_client_framing(out, Framing::none, 0, false, 0);
    EXPECT_EQ(out, "Connection: keep-alive\r\n\r\n");
}

}  // namespace
}  // namespace giosg::relay
