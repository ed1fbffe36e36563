#include "http/head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace giosg::http {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMax = 8192;

struct HeadCase {
    const char* name;
    std::string raw;
};

template <typename Case>
std::string param_name(const testing::TestParamInfo<Case>& info) {
    return info.param.name;
}

ParseResult parse(std::string_view raw, RequestHead& head, std::size_t max = kMax) {
    return parse_request_head(raw, max, head);
}

ParseResult parse_response(std::string_view raw, ResponseHead& head, bool request_was_head = false,
                           std::size_t max = kMax) {
    return parse_response_head(raw, max, request_was_head, head);
}

/// A request head of exactly `size` bytes (the filler header's value is padded to fit).
std::string request_of_size(std::size_t size) {
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Fill: ";
    const std::string end = "\r\n\r\n";
    head.append(size - head.size() - end.size(), 'x');
    return head + end;
}

// ---------------------------------------------------------------- request: the happy path

TEST(RequestHead, ParsesRequestLineAndFields) {
    const std::string raw =
        "POST /api/v5/users?x=1 HTTP/1.1\r\n"
        "Host: service.giosg.com\r\n"
        "X-Spaces: \t padded value \t\r\n"
        "X-Empty:\r\n"
        "X-Obs: caf\xc3\xa9\r\n"
        "\r\n";
    RequestHead head;
    const ParseResult result = parse(raw, head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(result.head_bytes, raw.size());
    EXPECT_EQ(head.method, "POST");
    EXPECT_EQ(head.target, "/api/v5/users?x=1");
    EXPECT_EQ(head.version_minor, 1);
    ASSERT_EQ(head.fields.size(), 4U);
    EXPECT_EQ(head.fields[0].name, "Host");
    EXPECT_EQ(head.fields[0].value, "service.giosg.com");
    EXPECT_EQ(head.fields[1].value, "padded value");
    EXPECT_EQ(head.fields[2].name, "X-Empty");
    EXPECT_EQ(head.fields[2].value, "");
    EXPECT_EQ(head.fields[3].value, "caf\xc3\xa9");
    EXPECT_EQ(head.body, BodyKind::none);
    EXPECT_TRUE(head.keep_alive);
    EXPECT_FALSE(head.expect_continue);
}

TEST(RequestHead, HeadBytesStopAtTheEmptyLineLeavingBodyAndPipelinedBytes) {
    const std::string head_text = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
    const std::string received = head_text + "abcGET / HTTP/1.1\r\n";
    RequestHead head;
    const ParseResult result = parse(received, head);
    ASSERT_EQ(result.status, ParseStatus::complete);
    EXPECT_EQ(result.head_bytes, head_text.size());
    EXPECT_EQ(head.body, BodyKind::content_length);
    EXPECT_EQ(head.content_length, 3U);
}

TEST(RequestHead, FieldViewsPointIntoTheCallersBuffer) {
    const std::string raw = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead head;
    ASSERT_EQ(parse(raw, head).status, ParseStatus::complete);
    EXPECT_GE(head.fields[0].value.data(), raw.data());
    EXPECT_LT(head.fields[0].value.data(), raw.data() + raw.size());
}

TEST(RequestHead, Http10WithoutHostIsAccepted) {
    RequestHead head;
    const ParseResult result = parse("GET / HTTP/1.0\r\n\r\n", head);
    ASSERT_EQ(result.status, ParseStatus::complete);
    EXPECT_EQ(head.version_minor, 0);
    EXPECT_FALSE(head.keep_alive);
}

TEST(RequestHead, LeadingEmptyLinesAreSkippedAndCountedInHeadBytes) {
    const std::string raw = "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead head;
    const ParseResult result = parse(raw, head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(result.head_bytes, raw.size());
    EXPECT_EQ(head.method, "GET");
}

TEST(RequestHead, TooManyLeadingEmptyLinesAreRejected) {
    RequestHead head;
    const ParseResult result = parse("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::bad_request);
}

TEST(RequestHead, MethodOf32CharactersIsAcceptedAnd33Rejected) {
    RequestHead head;
    const std::string method32(32, 'M');
    EXPECT_EQ(parse(method32 + " / HTTP/1.1\r\nHost: h\r\n\r\n", head).status,
              ParseStatus::complete);
    const ParseResult result = parse(method32 + "M / HTTP/1.1\r\nHost: h\r\n\r\n", head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::bad_request);
}

TEST(RequestHead, TargetCharactersBeyondTheLineAreLeftToParseTarget) {
    // The head parser only guards the line; parse_target rejects these with its own detail.
    RequestHead head;
    ASSERT_EQ(parse("GET /a\\b#c\x80 HTTP/1.1\r\nHost: h\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.target, "/a\\b#c\x80");
}

TEST(RequestHead, ClearResetsEverythingButKeepsFieldCapacity) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.0\r\nHost: h\r\nContent-Length: 5\r\n\r\n", head).status,
              ParseStatus::complete);
    const std::size_t capacity = head.fields.capacity();
    head.clear();
    EXPECT_TRUE(head.fields.empty());
    EXPECT_EQ(head.fields.capacity(), capacity);
    EXPECT_EQ(head.version_minor, 1);
    EXPECT_EQ(head.body, BodyKind::none);
    EXPECT_EQ(head.content_length, 0U);
    EXPECT_TRUE(head.keep_alive);
    EXPECT_TRUE(head.method.empty());
}

TEST(RequestHead, ReusedHeadDoesNotKeepFieldsOfThePreviousRequest) {
    RequestHead head;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", head).status,
              ParseStatus::complete);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", head).status, ParseStatus::complete);
    EXPECT_EQ(head.fields.size(), 1U);
}

TEST(RequestHead, CountAndFindAreCaseInsensitive) {
    RequestHead head;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.count("X-A"), 2U);
    EXPECT_EQ(head.count("host"), 1U);
    EXPECT_EQ(head.count("missing"), 0U);
    EXPECT_EQ(head.find("x-A"), std::optional<std::string_view>("1"));
    EXPECT_EQ(head.find("missing"), std::nullopt);
}

TEST(RequestHead, ConnectionListsChecksEveryConnectionFieldAndListElement) {
    RequestHead head;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo ,, Bar\r\n"
                    "connection: X-Custom\r\n\r\n",
                    head)
                  .status,
              ParseStatus::complete);
    EXPECT_TRUE(head.connection_lists("foo"));
    EXPECT_TRUE(head.connection_lists("bar"));
    EXPECT_TRUE(head.connection_lists("x-custom"));
    EXPECT_FALSE(head.connection_lists("close"));
    EXPECT_FALSE(head.connection_lists("fo"));
    EXPECT_FALSE(head.connection_lists(""));
}

// ---------------------------------------------------------------- request: framing errors

class MalformedRequestHead : public testing::TestWithParam<HeadCase> {};

TEST_P(MalformedRequestHead, IsBadRequest) {
    RequestHead head;
    const ParseResult result = parse(GetParam().raw, head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::bad_request);
    EXPECT_FALSE(result.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(
    RequestLine, MalformedRequestHead,
    testing::Values(
        HeadCase{"EmptyMethod", " / HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"MethodWithNonTokenChar", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"DoubleSpaceBeforeTarget", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"DoubleSpaceBeforeVersion", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"TabAsSeparator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"TrailingSpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n"},
        HeadCase{"MissingVersion", "GET /\r\nHost: h\r\n\r\n"},
        HeadCase{"Http09StyleLine", "GET\r\n\r\n"},
        HeadCase{"SpaceInsideTarget", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"NulInTarget", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s},
        HeadCase{"BareCrInTarget", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"Http20", "GET / HTTP/2.0\r\nHost: h\r\n\r\n"},
        HeadCase{"Http12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n"},
        HeadCase{"LowercaseVersion", "GET / http/1.1\r\nHost: h\r\n\r\n"},
        HeadCase{"VersionWithoutMinor", "GET / HTTP/1\r\nHost: h\r\n\r\n"},
        HeadCase{"VersionWithExtraDigit", "GET / HTTP/1.10\r\nHost: h\r\n\r\n"},
        HeadCase{"BareLfEndsRequestLine", "GET / HTTP/1.1\nHost: h\r\n\r\n"},
        HeadCase{"BareCrEndsRequestLine", "GET / HTTP/1.1\rHost: h\r\n\r\n"},
        HeadCase{"LeadingBareLf", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"}),
    param_name<HeadCase>);

INSTANTIATE_TEST_SUITE_P(
    FieldLines, MalformedRequestHead,
    testing::Values(
        HeadCase{"BareLfEndsField", "GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n"},
        HeadCase{"BareLfEndsHead", "GET / HTTP/1.1\r\nHost: h\r\n\n"},
        HeadCase{"BareCrInsideValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"},
        HeadCase{"BareCrEndsField", "GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n"},
        HeadCase{"BareCrAsEmptyLine", "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"},
        HeadCase{"NulInValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s},
        HeadCase{"ControlCharInValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n"},
        HeadCase{"DelInValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"},
        HeadCase{"ObsFold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n"},
        HeadCase{"ObsFoldWithTab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"},
        HeadCase{"FirstFieldLineFolded", "GET / HTTP/1.1\r\n Host: h\r\n\r\n"},
        HeadCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n"},
        HeadCase{"TabBeforeColon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"},
        HeadCase{"SpaceInsideName", "GET / HTTP/1.1\r\nHost: h\r\nX Y: 1\r\n\r\n"},
        HeadCase{"EmptyName", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"},
        HeadCase{"NoColon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"},
        HeadCase{"NonTokenInName", "GET / HTTP/1.1\r\nHost: h\r\nX(Y): 1\r\n\r\n"},
        HeadCase{"NulInName", "GET / HTTP/1.1\r\nHost: h\r\nX\0: 1\r\n\r\n"s}),
    param_name<HeadCase>);

INSTANTIATE_TEST_SUITE_P(
    Framing, MalformedRequestHead,
    testing::Values(
        HeadCase{"Http11WithoutHost", "GET / HTTP/1.1\r\n\r\n"},
        HeadCase{"Http11WithTwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"},
        HeadCase{"Http10WithTwoHosts", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"},
        HeadCase{"TransferEncodingWithContentLengthIsRejected",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 5\r\n\r\n"},
        HeadCase{"ContentLengthBeforeTransferEncodingIsRejected",
                 "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"},
        HeadCase{"TransferEncodingInHttp10",
                 "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"},
        HeadCase{"TwoTransferEncodingFields",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"},
        HeadCase{"TransferEncodingChunkedTwiceInList",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"},
        HeadCase{"TransferEncodingGzipChunked",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
        HeadCase{"TransferEncodingIdentity",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"},
        HeadCase{"TransferEncodingXchunked",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"},
        HeadCase{"TransferEncodingChunkedWithParameter",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"},
        HeadCase{"TransferEncodingEmpty",
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"},
        HeadCase{"TwoContentLengthFieldsEvenIfEqual",
                 "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"}),
    param_name<HeadCase>);

class InvalidContentLength : public testing::TestWithParam<const char*> {};

TEST_P(InvalidContentLength, IsBadRequest) {
    RequestHead head;
    const std::string raw =
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "s + GetParam() + "\r\n\r\n";
    const ParseResult result = parse(raw, head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::bad_request);
}

INSTANTIATE_TEST_SUITE_P(Values, InvalidContentLength,
                         testing::Values("", "-1", "+5", "5, 5", "5,5", "1 0", "1e3", "0x10",
                                         "five", "12345678901234567890",
                                         "00000000000000000001", "18446744073709551616"));

TEST(RequestHead, ContentLengthOfNineteenDigitsIsAccepted) {
    RequestHead head;
    const ParseResult result = parse(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999999999999999\r\n\r\n", head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(head.body, BodyKind::content_length);
    EXPECT_EQ(head.content_length, 9999999999999999999ULL);
}

TEST(RequestHead, ContentLengthZeroMeansNoBody) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.body, BodyKind::none);
    EXPECT_EQ(head.content_length, 0U);
}

TEST(RequestHead, ContentLengthWithLeadingZerosIsDecimal) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  010 \r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.content_length, 10U);
}

TEST(RequestHead, TransferEncodingChunkedIsCaseInsensitive) {
    RequestHead head;
    const ParseResult result =
        parse("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding:  ChUnKeD \r\n\r\n", head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(head.body, BodyKind::chunked);
}

// ---------------------------------------------------------------- request: keep-alive, Expect

struct KeepAliveCase {
    const char* name;
    const char* version;
    const char* connection_fields;
    bool keep_alive;
};

class RequestKeepAlive : public testing::TestWithParam<KeepAliveCase> {};

TEST_P(RequestKeepAlive, FollowsVersionAndConnectionOptions) {
    const std::string raw = "GET / HTTP/"s + GetParam().version + "\r\nHost: h\r\n" +
                            GetParam().connection_fields + "\r\n";
    RequestHead head;
    const ParseResult result = parse(raw, head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(head.keep_alive, GetParam().keep_alive);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestKeepAlive,
    testing::Values(KeepAliveCase{"Http11Default", "1.1", "", true},
                    KeepAliveCase{"Http11Close", "1.1", "Connection: close\r\n", false},
                    KeepAliveCase{"Http11CloseUppercaseInList", "1.1",
                                  "Connection: foo, CLOSE\r\n", false},
                    KeepAliveCase{"Http11CloseInSecondField", "1.1",
                                  "Connection: foo\r\nConnection: close\r\n", false},
                    KeepAliveCase{"Http11CloseLookalike", "1.1", "Connection: closed\r\n", true},
                    KeepAliveCase{"Http10Default", "1.0", "", false},
                    KeepAliveCase{"Http10KeepAlive", "1.0", "Connection: Keep-Alive\r\n", true},
                    KeepAliveCase{"Http10KeepAliveAndClose", "1.0",
                                  "Connection: keep-alive, close\r\n", false}),
    param_name<KeepAliveCase>);

TEST(RequestHead, ExpectContinueIsDetectedCaseInsensitively) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                    "Content-Length: 1\r\n\r\n",
                    head)
                  .status,
              ParseStatus::complete);
    EXPECT_TRUE(head.expect_continue);
}

TEST(RequestHead, OtherExpectValuesAreIgnoredNotRejected) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue-please\r\n\r\n", head)
                  .status,
              ParseStatus::complete);
    EXPECT_FALSE(head.expect_continue);
}

TEST(RequestHead, ExpectContinueIsIgnoredForHttp10) {
    RequestHead head;
    ASSERT_EQ(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_FALSE(head.expect_continue);
}

// ---------------------------------------------------------------- request: need_more and 431

TEST(RequestHead, EveryPrefixOfAValidHeadNeedsMore) {
    const std::string raw =
        "\r\nPOST /a?b=c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX: \r\n\r\n";
    RequestHead head;
    for (std::size_t n = 0; n < raw.size(); ++n) {
        const ParseResult result = parse(std::string_view(raw).substr(0, n), head);
        EXPECT_EQ(result.status, ParseStatus::need_more) << "prefix " << n << ": " << result.detail;
    }
    EXPECT_EQ(parse(raw, head).status, ParseStatus::complete);
    EXPECT_EQ(head.body, BodyKind::chunked);
}

TEST(RequestHead, PartialGarbageRequestLineIsRejectedWithoutWaiting) {
    RequestHead head;
    EXPECT_EQ(parse("\x16\x03\x01\x02", head).status, ParseStatus::error);  // TLS ClientHello
    EXPECT_EQ(parse("GET\t", head).status, ParseStatus::error);
    EXPECT_EQ(parse(std::string(33, 'G'), head).status, ParseStatus::error);
}

TEST(RequestHead, PartialLineWithBareCrIsRejectedWithoutWaiting) {
    RequestHead head;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb", head).status, ParseStatus::error);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r", head).status, ParseStatus::need_more);
}

TEST(RequestHead, HeadOfExactlyTheLimitIsAccepted) {
    const std::string raw = request_of_size(1024);
    ASSERT_EQ(raw.size(), 1024U);
    RequestHead head;
    const ParseResult result = parse(raw + "body", head, 1024);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(result.head_bytes, 1024U);
}

TEST(RequestHead, HeadOneByteOverTheLimitIsTooLarge) {
    const std::string raw = request_of_size(1025);
    RequestHead head;
    const ParseResult result = parse(raw, head, 1024);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::headers_too_large);
}

TEST(RequestHead, IncompleteHeadNeedsMoreBelowTheLimitAndIsTooLargeAtIt) {
    const std::string raw = request_of_size(2048);
    RequestHead head;
    EXPECT_EQ(parse(std::string_view(raw).substr(0, 1023), head, 1024).status,
              ParseStatus::need_more);
    const ParseResult result = parse(std::string_view(raw).substr(0, 1024), head, 1024);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::headers_too_large);
}

TEST(RequestHead, OversizedRequestLineIsTooLarge) {
    const std::string raw = "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead head;
    const ParseResult result = parse(raw, head, 1024);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::headers_too_large);
}

TEST(RequestHead, HundredFieldsAreAcceptedAndTheHundredAndFirstIsTooLarge) {
    std::string raw = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 1; i < 100; ++i) raw += "X-" + std::to_string(i) + ": v\r\n";
    RequestHead head;
    ASSERT_EQ(parse(raw + "\r\n", head).status, ParseStatus::complete);
    EXPECT_EQ(head.fields.size(), 100U);
    const ParseResult result = parse(raw + "X-101: v\r\n\r\n", head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::headers_too_large);
}

// ---------------------------------------------------------------- response

TEST(ResponseHead, ParsesStatusLineAndFields) {
    const std::string raw = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nX: y\r\n\r\n";
    const std::string received = raw + "{}";
    ResponseHead head;
    const ParseResult result = parse_response(received, head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(result.head_bytes, raw.size());
    EXPECT_EQ(head.version_minor, 1);
    EXPECT_EQ(head.status, 404);
    EXPECT_EQ(head.reason_phrase, "Not Found");
    EXPECT_EQ(head.fields.size(), 2U);
    EXPECT_EQ(head.body, BodyKind::content_length);
    EXPECT_EQ(head.content_length, 2U);
    EXPECT_TRUE(head.keep_alive);
}

TEST(ResponseHead, EmptyReasonPhraseIsAcceptedWithOrWithoutItsSpace) {
    ResponseHead head;
    ASSERT_EQ(parse_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.reason_phrase, "");
    ASSERT_EQ(parse_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", head).status,
              ParseStatus::complete);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.reason_phrase, "");
}

TEST(ResponseHead, EveryPrefixNeedsMore) {
    const std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    ResponseHead head;
    for (std::size_t n = 0; n < raw.size(); ++n)
        EXPECT_EQ(parse_response(std::string_view(raw).substr(0, n), head).status,
                  ParseStatus::need_more)
            << "prefix " << n;
    EXPECT_EQ(parse_response(raw, head).status, ParseStatus::complete);
}

TEST(ResponseHead, OversizedHeadIsTooLarge) {
    const std::string raw = "HTTP/1.1 200 OK\r\nX: " + std::string(600, 'x') + "\r\n\r\n";
    ResponseHead head;
    const ParseResult result = parse_response(raw, head, false, 512);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::headers_too_large);
}

class MalformedResponseHead : public testing::TestWithParam<HeadCase> {};

TEST_P(MalformedResponseHead, IsAnError) {
    ResponseHead head;
    const ParseResult result = parse_response(GetParam().raw, head);
    EXPECT_EQ(result.status, ParseStatus::error);
    EXPECT_EQ(result.reason, Reason::bad_request);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedResponseHead,
    testing::Values(
        HeadCase{"Http20", "HTTP/2.0 200 OK\r\n\r\n"},
        HeadCase{"LowercaseVersion", "http/1.1 200 OK\r\n\r\n"},
        HeadCase{"TwoDigitStatus", "HTTP/1.1 20 OK\r\n\r\n"},
        HeadCase{"FourDigitStatus", "HTTP/1.1 2000 OK\r\n\r\n"},
        HeadCase{"StatusBelow100", "HTTP/1.1 099 Low\r\n\r\n"},
        HeadCase{"StatusAbove599", "HTTP/1.1 600 High\r\n\r\n"},
        HeadCase{"NonDigitStatus", "HTTP/1.1 2x0 OK\r\n\r\n"},
        HeadCase{"DoubleSpaceBeforeStatus", "HTTP/1.1  200 OK\r\n\r\n"},
        HeadCase{"ControlCharInReason", "HTTP/1.1 200 O\x01K\r\n\r\n"},
        HeadCase{"LeadingEmptyLine", "\r\nHTTP/1.1 200 OK\r\n\r\n"},
        HeadCase{"BareLf", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"},
        HeadCase{"ObsFold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"},
        HeadCase{"SpaceBeforeColon", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n"},
        HeadCase{"ContentLengthWithTransferEncoding",
                 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"},
        HeadCase{"RepeatedContentLength",
                 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"},
        HeadCase{"ListedContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n"},
        HeadCase{"NonDecimalContentLength", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
        HeadCase{"ChunkedAppliedTwice",
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"},
        HeadCase{"EmptyTransferEncoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n"},
        HeadCase{"TransferEncodingInHttp10",
                 "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}),
    param_name<HeadCase>);

TEST(RequestLineParts, OnlyACompleteRequestLineGivesMethodAndTarget) {
    const auto parts = request_line_parts("\r\nGET /a?b HTTP/1.1\r\nHost: h\r\n");
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->method, "GET");
    EXPECT_EQ(parts->target, "/a?b");
    EXPECT_TRUE(request_line_parts("GET /a HTTP/9.9\r\n").has_value());  // refused later, still named
    for (std::string_view raw : {"Token secret-key and more\r\n", "Token secret-key\r\n", "GET /a HTTP/1.1",
                                 "GET\r\nAuthorization:Token k\r\n\r\n", "Authorization: Token k HTTP/1.1\r\n",
                                 "GET  /a HTTP/1.1\r\n", "G@T /a HTTP/1.1\r\n", "GET /a\tb HTTP/1.1\r\n", ""})
        EXPECT_FALSE(request_line_parts(raw).has_value()) << raw;
}

struct ResponseBodyCase {
    const char* name;
    std::string raw;
    bool request_was_head;
    BodyKind body;
    std::uint64_t content_length;
    bool keep_alive;
    bool other_coding = false;  // a coding besides chunked that the gateway could not pass on
};

class ResponseBody : public testing::TestWithParam<ResponseBodyCase> {};

TEST_P(ResponseBody, FramingAndReuseFollowRfc9112) {
    ResponseHead head;
    const ParseResult result = parse_response(GetParam().raw, head, GetParam().request_was_head);
    ASSERT_EQ(result.status, ParseStatus::complete) << result.detail;
    EXPECT_EQ(head.body, GetParam().body);
    EXPECT_EQ(head.content_length, GetParam().content_length);
    EXPECT_EQ(head.keep_alive, GetParam().keep_alive);
    EXPECT_EQ(head.other_coding, GetParam().other_coding);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResponseBody,
    testing::Values(
        ResponseBodyCase{"ContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                         false, BodyKind::content_length, 10, true},
        ResponseBodyCase{"ContentLengthZero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                         false, BodyKind::none, 0, true},
        ResponseBodyCase{"Chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n",
                         false, BodyKind::chunked, 0, true},
        ResponseBodyCase{"GzipThenChunked",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
                         false, BodyKind::chunked, 0, true, true},
        ResponseBodyCase{"GzipThenChunkedInOneField",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                         false, BodyKind::chunked, 0, true, true},
        ResponseBodyCase{"ChunkedNotFinalReadsUntilClose",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false,
                         BodyKind::until_close, 0, false, true},
        ResponseBodyCase{"OtherCodingReadsUntilClose",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
                         BodyKind::until_close, 0, false, true},
        ResponseBodyCase{"NoFramingReadsUntilClose", "HTTP/1.1 200 OK\r\n\r\n", false,
                         BodyKind::until_close, 0, false},
        ResponseBodyCase{"ConnectionClose",
                         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: Close\r\n\r\n",
                         false, BodyKind::content_length, 1, false},
        ResponseBodyCase{"Http10Default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false,
                         BodyKind::content_length, 1, false},
        ResponseBodyCase{"Http10KeepAlive",
                         "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n",
                         false, BodyKind::content_length, 1, true},
        ResponseBodyCase{"NoContent", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                         false, BodyKind::none, 0, true},
        ResponseBodyCase{"NotModified",
                         "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false,
                         BodyKind::none, 0, true},
        ResponseBodyCase{"Continue", "HTTP/1.1 100 Continue\r\n\r\n", false, BodyKind::none, 0,
                         true},
        ResponseBodyCase{"SwitchingProtocolsEndsReuse",
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false,
                         BodyKind::none, 0, false},
        ResponseBodyCase{"HeadRequestWithContentLength",
                         "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", true, BodyKind::none,
                         0, true},
        ResponseBodyCase{"HeadRequestWithoutFraming", "HTTP/1.1 200 OK\r\n\r\n", true,
                         BodyKind::none, 0, true}),
    param_name<ResponseBodyCase>);

TEST(ResponseHead, ContentLengthWithTransferEncodingIsAnErrorEvenWithoutABody) {
    // The framing is contradictory whether or not it is used: the upstream is not trusted.
    ResponseHead head;
    const std::string raw =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    EXPECT_EQ(parse_response(raw, head, true).status, ParseStatus::error);
}

TEST(ResponseHead, ConnectionListsFindsOptions) {
    ResponseHead head;
    ASSERT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: a, b\r\n\r\n",
                             head)
                  .status,
              ParseStatus::complete);
    EXPECT_TRUE(head.connection_lists("B"));
    EXPECT_FALSE(head.connection_lists("close"));
}

TEST(ResponseHead, ClearResetsDerivedValues) {
    ResponseHead head;
    ASSERT_EQ(parse_response("HTTP/1.0 500 X\r\nContent-Length: 7\r\n\r\n", head).status,
              ParseStatus::complete);
    head.clear();
    EXPECT_EQ(head.status, 0);
    EXPECT_EQ(head.version_minor, 1);
    EXPECT_TRUE(head.fields.empty());
    EXPECT_EQ(head.body, BodyKind::none);
    EXPECT_EQ(head.content_length, 0U);
    EXPECT_TRUE(head.keep_alive);
}

// ---------------------------------------------------------------- helpers

TEST(Iequals, ComparesAsciiCaseInsensitively) {
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("abc", "abd"));
    EXPECT_FALSE(iequals("abc", "ab"));
    EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // no Unicode folding
    EXPECT_FALSE(iequals("@", "`"));                // only letters fold
}

class HopByHop : public testing::TestWithParam<std::pair<const char*, bool>> {};

TEST_P(HopByHop, MatchesRfc9110List) {
    EXPECT_EQ(is_hop_by_hop(GetParam().first), GetParam().second) << GetParam().first;
}

INSTANTIATE_TEST_SUITE_P(
    Names, HopByHop,
    testing::Values(std::pair{"Connection", true}, std::pair{"keep-alive", true},
                    std::pair{"Proxy-Connection", true}, std::pair{"Proxy-Authorization", true},
                    std::pair{"PROXY-AUTHENTICATE", true}, std::pair{"proxy-", true},
                    std::pair{"TE", true}, std::pair{"Trailer", true},
                    std::pair{"Transfer-Encoding", true}, std::pair{"upgrade", true},
                    std::pair{"Proxy", false}, std::pair{"Proxyx-A", false},
                    std::pair{"Host", false}, std::pair{"Authorization", false},
                    std::pair{"Trailers", false}, std::pair{"Content-Length", false},
                    std::pair{"X-Proxy-Id", false}, std::pair{"", false}));

}  // namespace
}  // namespace giosg::http
