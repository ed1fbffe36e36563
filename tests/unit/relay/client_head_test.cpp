// The client's response head for an upstream answer: what passes, what the gateway frames.
#include "relay/client_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace giosg::relay {
namespace {

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
    append_client_fields(out, response, "rid");
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: rid\r\n");
}

TEST(ClientHead, HeadAnswerKeepsTheEntitysContentLengthButA204DropsIt) {
    const std::string head_answer = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n";
    const std::string no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
    std::string out;
    append_client_fields(out, parse(head_answer, true), "r");
    EXPECT_NE(out.find("Content-Length: 42\r\n"), std::string::npos);
    out.clear();
    append_client_fields(out, parse(no_content), "r");
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

TEST(ClientHead, MissingReasonPhraseGetsTheStandardOne) {
    const std::string raw = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n";
    std::string out;
    append_client_fields(out, parse(raw), "r");
    EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
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
