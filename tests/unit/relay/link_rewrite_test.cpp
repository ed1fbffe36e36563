// docs/reference.md §6 for Location / Content-Location values.
#include "relay/link_rewrite.hpp"

#include <gtest/gtest.h>

namespace {

using giosg::relay::Origin;
using giosg::relay::PublicOrigin;
using giosg::relay::parse_origin;
using giosg::relay::rewrite_link;

const Origin kUpstream = *parse_origin("https://service.giosg.com");
const PublicOrigin kGateway = *PublicOrigin::from_public_url("http://gw.corp.example:8080");

std::optional<std::string> rewrite(std::string_view value, const PublicOrigin& to = kGateway) {
    return rewrite_link(value, kUpstream, to);
}

TEST(RewriteLink, UpstreamOriginIsReplacedPathAndQueryKeptByteForByte) {
    EXPECT_EQ(rewrite("https://service.giosg.com/api/v5/orgs/o1/teams?page=2"),
              "http://gw.corp.example:8080/api/v5/orgs/o1/teams?page=2");
    EXPECT_EQ(rewrite("https://service.giosg.com/a%2Fb/%7Ex?q=%20&r=a+b#frag"),
              "http://gw.corp.example:8080/a%2Fb/%7Ex?q=%20&r=a+b#frag");
    EXPECT_EQ(rewrite("https://service.giosg.com"), "http://gw.corp.example:8080");
    EXPECT_EQ(rewrite("https://service.giosg.com?page=3"), "http://gw.corp.example:8080?page=3");
}

TEST(RewriteLink, OtherOriginsAreLeftAlone) {
    EXPECT_FALSE(rewrite("https://example.com/api/v5/x"));
    EXPECT_FALSE(rewrite("https://giosg.com/api/v5/x"));
    EXPECT_FALSE(rewrite("http://service.giosg.com/api/v5/x"));  // other scheme
    EXPECT_FALSE(rewrite("https://service.giosg.com.evil.example/x"));
    EXPECT_FALSE(rewrite("ftp://service.giosg.com/x"));
}

TEST(RewriteLink, SameHostOtherPortIsNotTheUpstream) {
    EXPECT_FALSE(rewrite("https://service.giosg.com:8443/api/v5/x"));
    EXPECT_FALSE(rewrite("https://service.giosg.com:80/api/v5/x"));
}

TEST(RewriteLink, DefaultPortEqualsNone) {
    EXPECT_EQ(rewrite("https://service.giosg.com:443/x"), "http://gw.corp.example:8080/x");
    const Origin with_port = *parse_origin("https://service.giosg.com:443");
    EXPECT_EQ(rewrite_link("https://service.giosg.com/x", with_port, kGateway), "http://gw.corp.example:8080/x");
}

TEST(RewriteLink, SchemeAndHostCaseInsensitive) {
    EXPECT_EQ(rewrite("HTTPS://Service.Giosg.COM/Api/V5?Page=2"), "http://gw.corp.example:8080/Api/V5?Page=2");
}

TEST(RewriteLink, UserinfoIsDropped) {
    EXPECT_EQ(rewrite("https://someone:secret@service.giosg.com/x"), "http://gw.corp.example:8080/x");
}

TEST(RewriteLink, RelativeValuesAreLeftAlone) {
    for (std::string_view value : {"/api/v5/x?page=2", "api/v5/x", "?page=2", "#f", "", "../x"}) {
        EXPECT_FALSE(rewrite(value)) << value;
    }
}

TEST(RewriteLink, NetworkPathReferenceToTheUpstreamHostIsRewritten) {
    EXPECT_EQ(rewrite("//service.giosg.com/api/v5/x?page=2"), "http://gw.corp.example:8080/api/v5/x?page=2");
    EXPECT_EQ(rewrite("//SERVICE.giosg.com:443/x"), "http://gw.corp.example:8080/x");
    EXPECT_FALSE(rewrite("//service.giosg.com:8443/x"));
    EXPECT_FALSE(rewrite("//example.com/x"));
}

TEST(RewriteLink, LocalhostUpstreamWithPort) {
    const Origin mock = *parse_origin("http://127.0.0.1:41234");
    const auto gateway = PublicOrigin::from_host("http", "127.0.0.1:8080");
    EXPECT_EQ(rewrite_link("http://127.0.0.1:41234/api/v5/orgs/o/teams?page=2", mock, gateway),
              "http://127.0.0.1:8080/api/v5/orgs/o/teams?page=2");
    EXPECT_FALSE(rewrite_link("http://127.0.0.1:41235/api/v5/x", mock, gateway));
    EXPECT_FALSE(rewrite_link("http://127.0.0.1/api/v5/x", mock, gateway));
}

TEST(RewriteLink, RelativePublicOriginGivesPathAndQuery) {
    const auto relative = PublicOrigin::relative();
    EXPECT_EQ(rewrite("https://service.giosg.com/api/v5/x?page=2", relative), "/api/v5/x?page=2");
    EXPECT_EQ(rewrite("https://service.giosg.com/api/v5/x?page=2#f", relative), "/api/v5/x?page=2#f");
    EXPECT_EQ(rewrite("https://service.giosg.com", relative), "/");
    EXPECT_EQ(rewrite("https://service.giosg.com?page=2", relative), "/?page=2");
    EXPECT_EQ(rewrite("https://service.giosg.com#f", relative), "/#f");
}

TEST(RewriteLink, RelativeLinkNeverBecomesANetworkPathReference) {
    const auto relative = PublicOrigin::relative();
    // "//evil.example/x" alone would send the client to evil.example.
    EXPECT_EQ(rewrite("https://service.giosg.com//evil.example/x", relative), "/.//evil.example/x");
    EXPECT_EQ(rewrite("https://service.giosg.com/\\evil.example/x", relative), "/./\\evil.example/x");
    EXPECT_EQ(rewrite("https://service.giosg.com\\evil.example", relative), "/.\\evil.example");
    // With an absolute public origin the path stays as it was.
    EXPECT_EQ(rewrite("https://service.giosg.com//x"), "http://gw.corp.example:8080//x");
}

TEST(RewriteLink, HostFallbackOrigin) {
    const auto from_host = PublicOrigin::from_host("https", "gw.local:9443");
    EXPECT_EQ(rewrite("https://service.giosg.com/api/v5/x", from_host), "https://gw.local:9443/api/v5/x");
}

}  // namespace
