// The bounded buffered rewriter the relay stage feeds JSON response bodies through.
#include "relay/body_rewrite.hpp"

#include <gtest/gtest.h>

namespace {

using giosg::relay::BodyRewriter;
using giosg::relay::ContentCoding;
using giosg::relay::GzipInflater;
using giosg::relay::InflateStatus;
using giosg::relay::LinkContext;
using giosg::relay::Origin;
using giosg::relay::PublicOrigin;
using giosg::relay::SkipReason;
using giosg::relay::gzip_compress;
using giosg::relay::is_json_media_type;
using giosg::relay::kDefaultMaxRewriteBytes;
using giosg::relay::parse_content_coding;
using giosg::relay::parse_origin;
using giosg::relay::skip_reason_label;

const Origin kUpstream = *parse_origin("https://service.giosg.com");
const std::optional<PublicOrigin> kGateway = PublicOrigin::from_public_url("https://gw.example");

LinkContext gateway_links() { return LinkContext(kUpstream, kGateway, "https", std::nullopt); }

const std::string kPage =
    R"({"next": "https://service.giosg.com/api/v5/orgs/o/teams?page=3", "previous": "https:\/\/service.giosg.com\/api\/v5\/orgs\/o\/teams?page=1", "results": [{"id": 1.0e2, "next": "https://service.giosg.com/keep"}]})";
const std::string kRewritten =
    R"({"next": "https://gw.example/api/v5/orgs/o/teams?page=3", "previous": "https://gw.example/api/v5/orgs/o/teams?page=1", "results": [{"id": 1.0e2, "next": "https://service.giosg.com/keep"}]})";

std::string gunzip(std::string_view gz) {
    GzipInflater inflater(1 << 26);
    std::string out;
    EXPECT_EQ(inflater.feed(gz, out), InflateStatus::ok);
    EXPECT_EQ(inflater.finish(), InflateStatus::ok);
    return out;
}

// Feeds `body` in pieces of `piece` bytes and expects the rewriter to buffer all of it.
BodyRewriter::Result run(std::string_view body, std::size_t piece, ContentCoding coding = ContentCoding::identity,
                         std::size_t max = kDefaultMaxRewriteBytes) {
    auto links = gateway_links();
    BodyRewriter rewriter(coding, links, max);
    for (std::size_t i = 0; i < body.size(); i += piece) {
        EXPECT_EQ(rewriter.feed(body.substr(i, piece)), BodyRewriter::Feed::buffering) << "at " << i;
    }
    return rewriter.finish();
}

TEST(BodyRewriter, IdentityBodyRewrittenInOnePiece) {
    auto result = run(kPage, kPage.size());
    EXPECT_TRUE(result.changed);
    EXPECT_FALSE(result.skipped);
    EXPECT_EQ(result.body, kRewritten);
}

TEST(BodyRewriter, IdentityBodyInOneBytePieces) {
    auto result = run(kPage, 1);
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(result.body, kRewritten);
}

TEST(BodyRewriter, GzipBodyInOneBytePiecesIsRewrittenAndRegzipped) {
    const std::string gz = gzip_compress(kPage);
    auto result = run(gz, 1, ContentCoding::gzip);
    EXPECT_TRUE(result.changed);
    EXPECT_FALSE(result.skipped);
    ASSERT_GE(result.body.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(result.body[0]), 0x1f);
    EXPECT_EQ(gunzip(result.body), kRewritten);
}

TEST(BodyRewriter, GzipBodyInUnevenPieces) {
    const std::string gz = gzip_compress(kPage);
    auto result = run(gz, 7, ContentCoding::gzip);
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(gunzip(result.body), kRewritten);
}

TEST(BodyRewriter, NothingToRewritePassesTheOriginalBytes) {
    const std::string body = R"({"next": null, "previous": null, "results": [ 1.50 ]})";
    auto result = run(body, 5);
    EXPECT_FALSE(result.changed);
    EXPECT_FALSE(result.skipped);
    EXPECT_EQ(result.body, body);

    // The original gzip bytes, not a re-compression of the same text.
    const std::string gz = gzip_compress(body, 1);
    auto gz_result = run(gz, 3, ContentCoding::gzip);
    EXPECT_FALSE(gz_result.changed);
    EXPECT_FALSE(gz_result.skipped);
    EXPECT_EQ(gz_result.body, gz);
}

TEST(BodyRewriter, WholeBodyFedAsLastPieceIsRewritten) {
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links);
    EXPECT_EQ(rewriter.feed(kPage, true), BodyRewriter::Feed::buffering);
    auto result = rewriter.finish();
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(result.body, kRewritten);
}

TEST(BodyRewriter, LastPieceThatEndsTheJsonEarlyIsSkippedAtOnce) {
    const std::string body = R"({"next": "https://service.giosg.com/x", "results": [)";
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links);
    EXPECT_EQ(rewriter.feed(body.substr(0, 10)), BodyRewriter::Feed::buffering);
    EXPECT_EQ(rewriter.feed(body.substr(10), true), BodyRewriter::Feed::skip);
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::invalid_json);
    EXPECT_EQ(rewriter.take_buffered(), body);
}

TEST(BodyRewriter, GzipLastPieceIsJudgedAtFinish) {
    const std::string gz = gzip_compress(kPage);
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::gzip, links);
    EXPECT_EQ(rewriter.feed(gz, true), BodyRewriter::Feed::buffering);
    auto result = rewriter.finish();
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(gunzip(result.body), kRewritten);

    const std::string cut = gz.substr(0, gz.size() - 3);  // the stream's end is missing
    auto cut_links = gateway_links();
    BodyRewriter cut_rewriter(ContentCoding::gzip, cut_links);
    EXPECT_EQ(cut_rewriter.feed(cut, true), BodyRewriter::Feed::buffering);
    EXPECT_EQ(cut_rewriter.finish().skipped, SkipReason::bad_gzip);
}

TEST(BodyRewriter, EmptyBodyIsUnchanged) {
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links);
    auto result = rewriter.finish();
    EXPECT_FALSE(result.changed);
    EXPECT_FALSE(result.skipped);
    EXPECT_EQ(result.body, "");
}

TEST(BodyRewriter, InvalidJsonIsSkippedEarlyWithItsBytes) {
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links);
    EXPECT_EQ(rewriter.feed("{\"next\": "), BodyRewriter::Feed::buffering);
    EXPECT_EQ(rewriter.feed("'https://service.giosg.com/x'}"), BodyRewriter::Feed::skip);
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::invalid_json);
    EXPECT_EQ(rewriter.take_buffered(), "{\"next\": 'https://service.giosg.com/x'}");
}

TEST(BodyRewriter, TruncatedJsonIsUnchangedAtFinish) {
    const std::string body = R"({"next": "https://service.giosg.com/x", "results": [)";
    auto result = run(body, 4);
    EXPECT_FALSE(result.changed);
    EXPECT_EQ(result.skipped, SkipReason::invalid_json);
    EXPECT_EQ(result.body, body);
}

TEST(BodyRewriter, HtmlLabelledJsonIsUnchanged) {
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links);
    EXPECT_EQ(rewriter.feed("<html>https://service.giosg.com/</html>"), BodyRewriter::Feed::skip);
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::invalid_json);
    auto result = rewriter.finish();
    EXPECT_FALSE(result.changed);
    EXPECT_EQ(result.body, "<html>https://service.giosg.com/</html>");
}

TEST(BodyRewriter, OverTheBoundSkipsAndHandsBackEveryByte) {
    const std::size_t max = 64;
    const std::string body = R"({"next": "https://service.giosg.com/x", "results": [)" + std::string(100, ' ') + "]}";
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::identity, links, max);
    std::string sent;
    std::size_t i = 0;
    for (; i < body.size(); i += 10) {
        if (rewriter.feed(std::string_view(body).substr(i, 10)) == BodyRewriter::Feed::skip) break;
    }
    ASSERT_LT(i, body.size()) << "never skipped";
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::too_large);
    sent = rewriter.take_buffered();
    EXPECT_EQ(sent.size(), i + 10);  // this piece included
    EXPECT_LE(sent.size(), max + 10);
    sent += body.substr(i + 10);  // the caller streams the rest unchanged
    EXPECT_EQ(sent, body);
    // Later feeds keep saying skip.
    EXPECT_EQ(rewriter.feed("x"), BodyRewriter::Feed::skip);
}

TEST(BodyRewriter, ExactlyAtTheBoundIsRewritten) {
    auto result = run(kPage, 10, ContentCoding::identity, kPage.size());
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(result.body, kRewritten);
}

TEST(BodyRewriter, InflatedSizeIsBoundedToo) {
    // Small on the wire, large once inflated: a gzip bomb stops at the bound.
    std::string body = R"({"next": "https://service.giosg.com/x", "pad": ")" + std::string(1 << 20, 'a') + "\"}";
    const std::string gz = gzip_compress(body);
    ASSERT_LT(gz.size(), 64u * 1024);
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::gzip, links, 64 * 1024);
    BodyRewriter::Feed last = BodyRewriter::Feed::buffering;
    std::size_t i = 0;
    for (; i < gz.size() && last == BodyRewriter::Feed::buffering; i += 100) {
        last = rewriter.feed(std::string_view(gz).substr(i, 100));
    }
    EXPECT_EQ(last, BodyRewriter::Feed::skip);
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::too_large);
    EXPECT_EQ(rewriter.take_buffered() + gz.substr(i), gz);
}

TEST(BodyRewriter, CorruptGzipIsSkipped) {
    auto links = gateway_links();
    BodyRewriter rewriter(ContentCoding::gzip, links);
    EXPECT_EQ(rewriter.feed(kPage), BodyRewriter::Feed::skip);  // plain text labelled gzip
    EXPECT_EQ(rewriter.skip_reason(), SkipReason::bad_gzip);
    EXPECT_EQ(rewriter.take_buffered(), kPage);
}

TEST(BodyRewriter, TruncatedGzipIsBadGzipAtFinish) {
    const std::string gz = gzip_compress(kPage);
    const std::string cut = gz.substr(0, gz.size() - 3);
    auto result = run(cut, 16, ContentCoding::gzip);
    EXPECT_FALSE(result.changed);
    EXPECT_EQ(result.skipped, SkipReason::bad_gzip);
    EXPECT_EQ(result.body, cut);
}

TEST(BodyRewriter, RelativePublicOrigin) {
    const std::optional<PublicOrigin> relative = PublicOrigin::relative();
    LinkContext links(kUpstream, relative, "https", std::nullopt);
    BodyRewriter rewriter(ContentCoding::identity, links);
    EXPECT_EQ(rewriter.feed(R"({"next":"https://service.giosg.com/api/v5/x?page=2","previous":null})"),
              BodyRewriter::Feed::buffering);
    auto result = rewriter.finish();
    EXPECT_TRUE(result.changed);
    EXPECT_EQ(result.body, R"({"next":"/api/v5/x?page=2","previous":null})");
}

TEST(MediaType, JsonTypes) {
    for (std::string_view type : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                                  "  application/json  ", "application/problem+json; charset=utf-8",
                                  "application/vnd.giosg.v5+JSON", "application/json;charset=\"utf-8\""}) {
        EXPECT_TRUE(is_json_media_type(type)) << type;
    }
    for (std::string_view type : {"text/html", "text/html; charset=utf-8", "application/jsonp", "application/json5",
                                  "text/plain; note=application/json", "application/+json", "json",
                                  "application/", "/json", "", "application/x-json-stream",
                                  "application/json+xml", "application /json"}) {
        EXPECT_FALSE(is_json_media_type(type)) << type;
    }
}

TEST(ContentCodingHeader, GzipIdentityAndTheRest) {
    EXPECT_EQ(parse_content_coding(std::nullopt), ContentCoding::identity);
    EXPECT_EQ(parse_content_coding(""), ContentCoding::identity);
    EXPECT_EQ(parse_content_coding("identity"), ContentCoding::identity);
    EXPECT_EQ(parse_content_coding("gzip"), ContentCoding::gzip);
    EXPECT_EQ(parse_content_coding(" GZIP "), ContentCoding::gzip);
    EXPECT_EQ(parse_content_coding("x-gzip"), ContentCoding::gzip);
    EXPECT_FALSE(parse_content_coding("br"));
    EXPECT_FALSE(parse_content_coding("deflate"));
    EXPECT_FALSE(parse_content_coding("gzip, gzip"));
    EXPECT_FALSE(parse_content_coding("gzip, br"));
}

TEST(SkipReasonLabel, MetricLabels) {
    EXPECT_EQ(skip_reason_label(SkipReason::too_large), "too_large");
    EXPECT_EQ(skip_reason_label(SkipReason::invalid_json), "invalid_json");
    EXPECT_EQ(skip_reason_label(SkipReason::bad_gzip), "bad_gzip");
    EXPECT_EQ(skip_reason_label(SkipReason::unsupported_encoding), "unsupported_encoding");
}

}  // namespace
