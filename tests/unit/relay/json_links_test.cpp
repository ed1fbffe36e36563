// docs/reference.md §6 for JSON bodies: top-level next/previous rewritten, every other byte kept.
#include "relay/json_links.hpp"

#include <gtest/gtest.h>

namespace {

using giosg::relay::JsonCheck;
using giosg::relay::JsonValidator;
using giosg::relay::LinkRewrite;
using giosg::relay::Origin;
using giosg::relay::PublicOrigin;
using giosg::relay::is_valid_json;
using giosg::relay::parse_origin;
using giosg::relay::LinkContext;
using giosg::relay::rewrite_json_links;

const Origin kUpstream = *parse_origin("https://service.giosg.com");
const PublicOrigin kGateway = *PublicOrigin::from_public_url("https://gw.example");

struct Outcome {
    LinkRewrite status;
    std::string body;
};

Outcome rewrite(std::string_view body, const PublicOrigin& to = kGateway) {
    std::string out = "PREFIX";  // appended to, never replaced
    const std::optional<PublicOrigin> configured(to);
    LinkContext links(kUpstream, configured, "https", std::nullopt);
    auto status = rewrite_json_links(body, links, out);
    EXPECT_EQ(out.substr(0, 6), "PREFIX");
    if (status != LinkRewrite::rewritten) {
        EXPECT_EQ(out, "PREFIX") << "out touched without a rewrite";
    }
    return {status, out.substr(6)};
}

TEST(JsonLinks, RewritesTopLevelNextAndPrevious) {
    auto r = rewrite(R"({"next":"https://service.giosg.com/api/v5/x?page=3","previous":"https://service.giosg.com/api/v5/x?page=1","results":[]})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"next":"https://gw.example/api/v5/x?page=3","previous":"https://gw.example/api/v5/x?page=1","results":[]})");
}

TEST(JsonLinks, PreviousAloneIsRewritten) {
    auto r = rewrite(R"({"next": null, "previous": "https://service.giosg.com/api/v5/x", "results": [1]})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"next": null, "previous": "https://gw.example/api/v5/x", "results": [1]})");
}

TEST(JsonLinks, NullAndNonStringValuesAreUntouched) {
    EXPECT_EQ(rewrite(R"({"next":null,"previous":null,"results":[]})").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(R"({"next":2,"previous":false,"results":[]})").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(R"({"next":{"url":"https://service.giosg.com/x"},"previous":["https://service.giosg.com/x"]})").status,
              LinkRewrite::unchanged);
}

TEST(JsonLinks, NestedNextIsData) {
    const std::string body =
        R"({"results":[{"next":"https://service.giosg.com/a","previous":"https://service.giosg.com/b"}],)"
        R"("meta":{"next":"https://service.giosg.com/c"},"next":null})";
    EXPECT_EQ(rewrite(body).status, LinkRewrite::unchanged);

    // With a top-level link beside them, only that one changes.
    const std::string mixed =
        R"({"results":[{"next":"https://service.giosg.com/a"}],"next":"https://service.giosg.com/p2"})";
    auto r = rewrite(mixed);
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"results":[{"next":"https://service.giosg.com/a"}],"next":"https://gw.example/p2"})");
}

TEST(JsonLinks, NextInsideAStringIsNotAKey) {
    const std::string body = R"({"note":"\"next\":\"https://service.giosg.com/x\"","results":[]})";
    EXPECT_EQ(rewrite(body).status, LinkRewrite::unchanged);
}

TEST(JsonLinks, OtherOriginsAreUntouched) {
    EXPECT_EQ(rewrite(R"({"next":"https://example.com/api/v5/x?page=2"})").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(R"({"next":"https://service.giosg.com:8443/x"})").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(R"({"next":"/api/v5/x?page=2"})").status, LinkRewrite::unchanged);
}

TEST(JsonLinks, EscapedSlashesAreDecodedAndTheNewValueIsWrittenPlain) {
    auto r = rewrite(R"({"next":"https:\/\/service.giosg.com\/api\/v5\/x?page=2","previous":null})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"next":"https://gw.example/api/v5/x?page=2","previous":null})");
}

TEST(JsonLinks, UnicodeEscapesInValuesAreDecoded) {
    // "\u0068ttps" is "https"; "\u00e4" is ä (UTF-8 C3 A4), written raw in the new value.
    auto r = rewrite(R"({"next":"\u0068ttps://service.giosg.com/\u00e4?q=\"x\"\\y"})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, "{\"next\":\"https://gw.example/\xC3\xA4?q=\\\"x\\\"\\\\y\"}");
}

TEST(JsonLinks, SurrogatePairsDecodeAndLoneSurrogatesAreLeftAlone) {
    auto r = rewrite(R"({"next":"https://service.giosg.com/\ud83d\ude00"})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, "{\"next\":\"https://gw.example/\xF0\x9F\x98\x80\"}");
    // A lone surrogate has no UTF-8 form to write back: whether the parser refuses it or not,
    // the value must not be rewritten into something else.
    EXPECT_NE(rewrite(R"({"next":"https://service.giosg.com/\ud83d"})").status, LinkRewrite::rewritten);
    EXPECT_NE(rewrite(R"({"next":"https://service.giosg.com/\ude00x"})").status, LinkRewrite::rewritten);
}

TEST(JsonLinks, ControlCharactersAreEscapedInTheNewValue) {
    auto r = rewrite(R"({"next":"https://service.giosg.com/a\tb\u0001"})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"next":"https://gw.example/a\tb\u0001"})");
}

TEST(JsonLinks, EscapedKeyCountsAsNext) {
    auto r = rewrite(R"({"n\u0065xt":"https://service.giosg.com/x"})");
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, R"({"n\u0065xt":"https://gw.example/x"})");
}

TEST(JsonLinks, DuplicateKeysAreAllRewritten) {
    auto r = rewrite(R"({"next":"https://service.giosg.com/1","next":"https://service.giosg.com/2"})");
    EXPECT_EQ(r.body, R"({"next":"https://gw.example/1","next":"https://gw.example/2"})");
}

TEST(JsonLinks, EveryOtherByteSurvives) {
    const std::string body =
        "\r\n\t { \"count\" : 1.50e+3 ,\n\t\"big\": 123456789012345678901234567890, \"neg\":-0.0,"
        "\"esc\":\"\\u00e4\\/\\n\\\"\", \"z\":[ 1 , {\"k\" : [ ] } ],\n"
        "  \"next\"  :\t\"https://service.giosg.com/api/v5/x?page=2\" , \"a\":true,\"b\":null,"
        "\"previous\":\"https:\\/\\/SERVICE.giosg.com:443\\/api?page=0\"}  \n";
    const std::string expected =
        "\r\n\t { \"count\" : 1.50e+3 ,\n\t\"big\": 123456789012345678901234567890, \"neg\":-0.0,"
        "\"esc\":\"\\u00e4\\/\\n\\\"\", \"z\":[ 1 , {\"k\" : [ ] } ],\n"
        "  \"next\"  :\t\"https://gw.example/api/v5/x?page=2\" , \"a\":true,\"b\":null,"
        "\"previous\":\"https://gw.example/api?page=0\"}  \n";
    auto r = rewrite(body);
    EXPECT_EQ(r.status, LinkRewrite::rewritten);
    EXPECT_EQ(r.body, expected);
}

TEST(JsonLinks, RelativePublicOrigin) {
    auto r = rewrite(R"({"next":"https://service.giosg.com/api/v5/x?page=2"})", PublicOrigin::relative());
    EXPECT_EQ(r.body, R"({"next":"/api/v5/x?page=2"})");
}

TEST(JsonLinks, NotAnObjectIsUnchanged) {
    EXPECT_EQ(rewrite(R"(["https://service.giosg.com/x"])").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(R"("https://service.giosg.com/x")").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite("{}").status, LinkRewrite::unchanged);
    EXPECT_EQ(rewrite(" 42 ").status, LinkRewrite::unchanged);
}

TEST(JsonLinks, InvalidJsonIsReportedAndUnchanged) {
    for (std::string_view bad : {"", "{", R"({"next":"https://service.giosg.com/x")",
                                 R"({"next":"https://service.giosg.com/x",})", R"({"next":"https://service.giosg.com/x"} x)",
                                 R"({"next":"https://service.giosg.com/x"}{})", "{'next':'x'}",
                                 "{\"next\":\"https://service.giosg.com/\xFF\"}", "// c\n{}", "{\"a\":01}"}) {
        EXPECT_EQ(rewrite(bad).status, LinkRewrite::invalid_json) << bad;
    }
}

TEST(JsonLinks, AlreadyValidatedSkipsTheCheck) {
    std::string out;
    const std::optional<PublicOrigin> configured(kGateway);
    LinkContext links(kUpstream, configured, "https", std::nullopt);
    EXPECT_EQ(rewrite_json_links(R"({"next":"https://service.giosg.com/x"})", links, out,
                                 JsonCheck::already_validated),
              LinkRewrite::rewritten);
    EXPECT_EQ(out, R"({"next":"https://gw.example/x"})");
}

TEST(JsonLinks, PublicOriginEqualToUpstreamIsUnchanged) {
    auto same = *PublicOrigin::from_public_url("https://service.giosg.com");
    EXPECT_EQ(rewrite(R"({"next":"https://service.giosg.com/x"})", same).status, LinkRewrite::unchanged);
}

TEST(JsonValidator, AcceptsOneByteAtATime) {
    const std::string body = R"( {"a":[1,2.5e3,{"b":"\u00e4\/"}],"c":null,"d":true} )";
    JsonValidator validator;
    for (char c : body) ASSERT_TRUE(validator.feed(std::string_view(&c, 1)));
    EXPECT_TRUE(validator.finish());
}

TEST(JsonValidator, TopLevelNumberNeedsFinish) {
    JsonValidator validator;
    EXPECT_TRUE(validator.feed("12"));
    EXPECT_TRUE(validator.feed("3"));
    EXPECT_TRUE(validator.finish());
}

TEST(JsonValidator, FailsEarlyAndStaysFailed) {
    JsonValidator validator;
    EXPECT_TRUE(validator.feed("{\"a\":"));
    EXPECT_FALSE(validator.feed("x"));
    EXPECT_FALSE(validator.feed("1}"));
    EXPECT_FALSE(validator.finish());
}

TEST(JsonValidator, DataAfterTheValueFails) {
    JsonValidator validator;
    EXPECT_TRUE(validator.feed("{} "));
    EXPECT_FALSE(validator.feed(" x"));
    EXPECT_FALSE(is_valid_json("{}{}"));
    EXPECT_FALSE(is_valid_json("{} 1"));
    EXPECT_TRUE(is_valid_json(" {} \n"));
}

TEST(JsonValidator, TruncatedFailsAtFinish) {
    JsonValidator validator;
    EXPECT_TRUE(validator.feed(R"({"a":"unterminated)"));
    EXPECT_FALSE(validator.finish());
}

TEST(JsonValidator, LastPieceEndsTheText) {
    JsonValidator whole;
    EXPECT_TRUE(whole.feed(R"({"a": [1, 2]} )", true));
    EXPECT_TRUE(whole.finish());  // nothing more to check, still valid
    EXPECT_FALSE(whole.feed("x"));  // nothing may follow the end

    JsonValidator split;
    EXPECT_TRUE(split.feed("[1, "));
    EXPECT_TRUE(split.feed("2]", true));

    JsonValidator number;
    EXPECT_TRUE(number.feed("12", true));  // a top-level number ends with the text

    JsonValidator truncated;
    EXPECT_FALSE(truncated.feed(R"({"a": [1)", true));
    EXPECT_FALSE(truncated.finish());
}

TEST(JsonValidator, DeepNestingIsAccepted) {
    std::string deep(500, '[');
    deep += std::string(500, ']');
    EXPECT_TRUE(is_valid_json(deep));
}

}  // namespace
