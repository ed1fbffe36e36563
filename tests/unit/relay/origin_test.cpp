// docs/reference.md §6 origins: what counts as the upstream, and what the client's gateway origin is.
#include "relay/origin.hpp"

#include <gtest/gtest.h>

namespace {

using giosg::relay::Origin;
using giosg::relay::PublicOrigin;
using giosg::relay::choose_public_origin;
using giosg::relay::is_valid_host_port;
using giosg::relay::parse_origin;
using giosg::relay::same_origin;
using giosg::relay::split_absolute_url;

Origin origin_of(std::string_view url) {
    auto origin = parse_origin(url);
    EXPECT_TRUE(origin.has_value()) << url;
    return origin.value_or(Origin{});
}

TEST(Origin, ParsesSchemeHostPortAndRest) {
    auto split = split_absolute_url("HTTPS://Service.GIOSG.com:8443/api/v5/x?page=2#f");
    ASSERT_TRUE(split);
    EXPECT_EQ(split->origin.scheme, "https");
    EXPECT_EQ(split->origin.host, "service.giosg.com");
    EXPECT_EQ(split->origin.port, 8443);
    EXPECT_EQ(split->rest, "/api/v5/x?page=2#f");
}

TEST(Origin, RestStartsAtQueryOrFragmentWithoutPath) {
    EXPECT_EQ(split_absolute_url("https://h?x=1")->rest, "?x=1");
    EXPECT_EQ(split_absolute_url("https://h#top")->rest, "#top");
    EXPECT_EQ(split_absolute_url("https://h")->rest, "");
}

TEST(Origin, UserinfoIsNotPartOfTheOriginAndTheLastAtCounts) {
    EXPECT_EQ(origin_of("https://user:pw@service.giosg.com/x").host, "service.giosg.com");
    // Clients split at the last '@': this one goes to evil.example.
    EXPECT_EQ(origin_of("https://service.giosg.com@evil.example/x").host, "evil.example");
}

TEST(Origin, BackslashEndsTheAuthorityAsClientsReadIt) {
    auto split = split_absolute_url("https://service.giosg.com\\api\\v5");
    ASSERT_TRUE(split);
    EXPECT_EQ(split->origin.host, "service.giosg.com");
    EXPECT_EQ(split->rest, "\\api\\v5");
}

TEST(Origin, Ipv4AndIpv6Hosts) {
    EXPECT_EQ(origin_of("http://127.0.0.1:8080/").host, "127.0.0.1");
    auto v6 = origin_of("http://[::1]:9000/x");
    EXPECT_EQ(v6.host, "[::1]");
    EXPECT_EQ(v6.port, 9000);
    EXPECT_EQ(origin_of("http://[2001:DB8::A]/").host, "[2001:db8::a]");
}

TEST(Origin, RefusesWhatIsNotAnAbsoluteUrlWithAHost) {
    for (std::string_view bad : {"", "/api/v5/x", "api/v5", "//service.giosg.com/x", "https:/service.giosg.com",
                                 "https:service.giosg.com", "https://", "https:///x", "https://h:99999/",
                                 "https://h:12a/", "https://h:-1/", "https://h:+80/", "https://[::1/",
                                 "https://[::1]x/", "https://[zz]/", "https://a b/", "https://h%zz/",
                                 "1https://h/", "mailto:someone@example.com"}) {
        EXPECT_FALSE(split_absolute_url(bad)) << bad;
    }
}

TEST(Origin, EmptyPortIsNoPort) {
    auto origin = origin_of("https://h:/x");
    EXPECT_FALSE(origin.port);
    EXPECT_EQ(origin.effective_port(), 443);
}

TEST(Origin, DefaultPortEqualsNone) {
    EXPECT_TRUE(same_origin(origin_of("https://service.giosg.com:443/x"), origin_of("https://service.giosg.com")));
    EXPECT_TRUE(same_origin(origin_of("http://h:80"), origin_of("http://h/")));
    EXPECT_FALSE(same_origin(origin_of("https://h:80"), origin_of("https://h")));
    EXPECT_FALSE(same_origin(origin_of("http://h:443"), origin_of("http://h")));
}

TEST(Origin, SchemeAndHostCompareCaseInsensitively) {
    EXPECT_TRUE(same_origin(origin_of("HTTPS://SERVICE.Giosg.COM/x"), origin_of("https://service.giosg.com")));
}

TEST(Origin, SameHostOtherPortOrSchemeIsAnotherOrigin) {
    const Origin upstream = origin_of("https://service.giosg.com");
    EXPECT_FALSE(same_origin(origin_of("https://service.giosg.com:8443/x"), upstream));
    EXPECT_FALSE(same_origin(origin_of("http://service.giosg.com/x"), upstream));
    EXPECT_FALSE(same_origin(origin_of("https://api.giosg.com/x"), upstream));
    EXPECT_FALSE(same_origin(origin_of("https://service.giosg.com.evil.example/x"), upstream));
}

TEST(Origin, ValidHostPort) {
    for (std::string_view good : {"gw.example", "GW.example:8080", "127.0.0.1", "127.0.0.1:0", "[::1]",
                                  "[::1]:8443", "a-b_c~d", "xn--bcher-kva.example:65535"}) {
        EXPECT_TRUE(is_valid_host_port(good)) << good;
    }
    for (std::string_view bad : {"", ":80", "gw:", "gw:65536", "gw:123456", "gw:8o", "gw/x", "gw x",
                                 "user@gw", "gw?x", "gw#x", "[::1", "[::1]:", "[::1]x", "[gw]", "gw,other",
                                 "gw\r\nX-Injected: 1", "gw:80:80", "\"gw\"", "g<w", "gw%41", "gw;x", "gw'"}) {
        EXPECT_FALSE(is_valid_host_port(bad)) << bad;
    }
}

TEST(PublicOrigin, FromPublicUrl) {
    EXPECT_EQ(PublicOrigin::from_public_url("https://giosg-gw.corp.example")->prefix(), "https://giosg-gw.corp.example");
    EXPECT_EQ(PublicOrigin::from_public_url("https://giosg-gw.corp.example/")->prefix(), "https://giosg-gw.corp.example");
    EXPECT_EQ(PublicOrigin::from_public_url("http://10.0.0.1:8080")->prefix(), "http://10.0.0.1:8080");
    for (std::string_view bad : {"giosg-gw.corp.example", "https://gw/base", "https://gw?x", "https://gw#x",
                                 "https://u@gw", "ftp://gw", "https://gw:", "https://", "/relative"}) {
        EXPECT_FALSE(PublicOrigin::from_public_url(bad)) << bad;
    }
}

TEST(PublicOrigin, FromListenerSchemeAndHost) {
    auto origin = PublicOrigin::from_host("http", "gw.internal:8080");
    EXPECT_FALSE(origin.is_relative());
    EXPECT_EQ(origin.prefix(), "http://gw.internal:8080");
    EXPECT_EQ(PublicOrigin::from_host("https", "[::1]:8443").prefix(), "https://[::1]:8443");
    // The Host as the client sent it, case kept.
    EXPECT_EQ(PublicOrigin::from_host("https", "GW.Internal").prefix(), "https://GW.Internal");
}

TEST(PublicOrigin, InvalidOrMissingHostGivesRelativeLinks) {
    EXPECT_TRUE(PublicOrigin::from_host("http", std::nullopt).is_relative());
    EXPECT_TRUE(PublicOrigin::from_host("http", "").is_relative());
    EXPECT_TRUE(PublicOrigin::from_host("http", "evil.example/phish?").is_relative());
    EXPECT_TRUE(PublicOrigin::from_host("http", "gw:notaport").is_relative());
    EXPECT_TRUE(PublicOrigin::from_host("http", "user@gw").is_relative());
    EXPECT_TRUE(PublicOrigin::from_host("gopher", "gw").is_relative());
    EXPECT_EQ(PublicOrigin::relative().prefix(), "");
}

TEST(PublicOrigin, PublicUrlWinsOverHost) {
    auto configured = PublicOrigin::from_public_url("https://gw.corp.example");
    EXPECT_EQ(choose_public_origin(configured, "http", "127.0.0.1:8080").prefix(), "https://gw.corp.example");
    EXPECT_EQ(choose_public_origin(configured, "http", "not a host").prefix(), "https://gw.corp.example");
    EXPECT_EQ(choose_public_origin(std::nullopt, "http", "127.0.0.1:8080").prefix(), "http://127.0.0.1:8080");
    EXPECT_TRUE(choose_public_origin(std::nullopt, "http", "not a host").is_relative());
}

}  // namespace
