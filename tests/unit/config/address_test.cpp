// Addresses: "listen" / "admin_listen" and the upstream URL.
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

// ---- listen ----------------------------------------------------------------------------------

TEST(ParseConfig, ListenAcceptsIpv4NamesAndBracketedIpv6) {
    struct Case {
        std::string text;
        std::string host;
        std::uint16_t port;
    };
    for (const Case& test : std::vector<Case>{{"127.0.0.1:8080", "127.0.0.1", 8080},
                                              {"0.0.0.0:0", "0.0.0.0", 0},
                                              {"localhost:65535", "localhost", 65535},
                                              {"[::1]:8080", "::1", 8080},
                                              {"[::]:9901", "::", 9901},
                                              {"[2001:db8::7]:443", "2001:db8::7", 443}}) {
        SCOPED_TRACE(test.text);
        const Config config = parsed_after([&](json::object& c) { c["listen"] = test.text; });
        EXPECT_EQ(config.listen.host, test.host);
        EXPECT_EQ(config.listen.port, test.port);
        const Config admin = parsed_after([&](json::object& c) {
            c["listen"] = "127.0.0.9:1";
            c["admin_listen"] = test.text;
        });
        ASSERT_TRUE(admin.admin_listen.has_value());
        EXPECT_EQ(admin.admin_listen->host, test.host);
        EXPECT_EQ(admin.admin_listen->port, test.port);
    }
}

TEST(ParseConfig, ListenRejectsMalformedHostPort) {
    struct Case {
        std::string text;
        std::string message;
    };
    const std::string shape = "must be \"host:port\" (IPv6 as \"[::1]:8080\")";
    const std::string port = "port must be a number from 0 to 65535";
    for (const Case& test : std::vector<Case>{
             {"127.0.0.1", shape},
             {"", shape},
             {"[::1]8080", shape},
             {"[::1]", shape},
             {"::1:8080", "an IPv6 address must be in brackets, as \"[::1]:8080\""},
             {":8080", "missing host (use 0.0.0.0 or [::] for every interface)"},
             {"[]:8080", "missing host (use 0.0.0.0 or [::] for every interface)"},
             {"localhost:65536", port},
             {"localhost:-1", port},
             {"localhost:", port},
             {"localhost:80 ", port},
             {"localhost:0x50", port},
             {"[zz::1]:80", "invalid IPv6 address"},
             {"999.1.1.1:80", "invalid IPv4 address"},
             {"a b:80", "invalid host name"},
             {"-x:80", "invalid host name"},
         }) {
        SCOPED_TRACE(test.text);
        EXPECT_THAT(errors_after([&](json::object& c) { c["listen"] = test.text; }),
                    ElementsAre("/listen: " + test.message));
    }
}

TEST(ParseConfig, AdminListenIsOptionalAndMayBeNull) {
    EXPECT_FALSE(parsed_after([](json::object& c) { c["admin_listen"] = nullptr; }).admin_listen.has_value());
    EXPECT_THAT(errors_after([](json::object& c) { c["admin_listen"] = "nope"; }),
                ElementsAre("/admin_listen: must be \"host:port\" (IPv6 as \"[::1]:8080\")"));
    EXPECT_THAT(errors_after([](json::object& c) { c["admin_listen"] = 9901; }),
                ElementsAre("/admin_listen: must be a string or null"));
}

TEST(ParseConfig, AdminListenMustNotBeTheListenAddress) {
    const auto with = [](std::string listen, std::string admin) {
        return errors_after([&](json::object& c) {
            c["listen"] = listen;
            c["admin_listen"] = admin;
        });
    };
    const auto refused = ElementsAre("/admin_listen: must not be the address of /listen");
    EXPECT_THAT(with("127.0.0.1:8080", "127.0.0.1:8080"), refused);
    EXPECT_THAT(with("0.0.0.0:8080", "127.0.0.1:8080"), refused);  // the wildcard covers it
    EXPECT_THAT(with("127.0.0.1:8080", "[::]:8080"), refused);      // the admin's [::] takes IPv4 too
    EXPECT_THAT(with("[::]:8080", "[::1]:8080"), refused);
    EXPECT_THAT(with("[::]:8080", "0.0.0.0:8080"), IsEmpty());     // the workers' [::] is IPv6 only
    EXPECT_THAT(with("[::1]:8080", "127.0.0.1:8080"), IsEmpty());
    EXPECT_THAT(with("127.0.0.1:8080", "127.0.0.1:8081"), IsEmpty());
    EXPECT_THAT(with("127.0.0.1:8080", "127.0.0.2:8080"), IsEmpty());
    EXPECT_THAT(with("127.0.0.1:0", "127.0.0.1:0"), IsEmpty());  // two free ports
}

// ---- upstream URL ----------------------------------------------------------------------------

TEST(ParseUpstreamUrl, AcceptsHttpAndHttpsOrigins) {
    struct Case {
        std::string_view url;
        bool tls;
        std::string host;
        std::uint16_t port;
        std::string authority;
        std::string origin;
    };
    for (const Case& test : std::vector<Case>{
             {"https://service.giosg.com", true, "service.giosg.com", 443, "service.giosg.com",
              "https://service.giosg.com"},
             {"https://service.giosg.com/", true, "service.giosg.com", 443, "service.giosg.com",
              "https://service.giosg.com"},
             {"https://service.giosg.com:443", true, "service.giosg.com", 443, "service.giosg.com",
              "https://service.giosg.com"},
             {"https://service.giosg.com:8443/", true, "service.giosg.com", 8443, "service.giosg.com:8443",
              "https://service.giosg.com:8443"},
             {"http://127.0.0.1:8081", false, "127.0.0.1", 8081, "127.0.0.1:8081", "http://127.0.0.1:8081"},
             {"http://localhost", false, "localhost", 80, "localhost", "http://localhost"},
             {"http://localhost:443", false, "localhost", 443, "localhost:443", "http://localhost:443"},
             {"http://[::1]:8081", false, "::1", 8081, "[::1]:8081", "http://[::1]:8081"},
             {"https://[2001:db8::1]", true, "2001:db8::1", 443, "[2001:db8::1]", "https://[2001:db8::1]"},
             {"HTTPS://Service.Giosg.COM", true, "service.giosg.com", 443, "service.giosg.com",
              "https://service.giosg.com"},
         }) {
        SCOPED_TRACE(test.url);
        std::string error;
        const std::optional<UpstreamUrl> url = parse_upstream_url(test.url, error);
        ASSERT_TRUE(url.has_value()) << error;
        EXPECT_EQ(url->tls, test.tls);
        EXPECT_EQ(url->host, test.host);
        EXPECT_EQ(url->port, test.port);
        EXPECT_EQ(url->authority, test.authority);
        EXPECT_EQ(url->origin, test.origin);
    }
}

TEST(ParseUpstreamUrl, RejectsEverythingButSchemeHostAndPort) {
    struct Case {
        std::string_view url;
        std::string_view message;
    };
    const std::string_view shape = "must be http:// or https:// followed by host[:port]";
    const std::string_view path = "must not have a path, query or fragment (only an optional trailing \"/\")";
    const std::string_view port = "port must be a number from 1 to 65535";
    for (const Case& test : std::vector<Case>{
             {"", shape},
             {"service.giosg.com", shape},
             {"//service.giosg.com", shape},
             {"ftp://service.giosg.com", shape},
             {"ws://service.giosg.com", shape},
             {"https://", "missing host"},
             {"https:service.giosg.com", "missing host"},
             {"https://user:hunter2@service.giosg.com",
              "must not contain user info (tokens belong in \"credentials\")"},
             {"https://@service.giosg.com", "must not contain user info (tokens belong in \"credentials\")"},
             {"https://service.giosg.com/api", path},
             {"https://service.giosg.com//", path},
             {"https://service.giosg.com?x=1", path},
             {"https://service.giosg.com/?", path},
             {"https://service.giosg.com#top", path},
             {"https://service.giosg.com:0", port},
             {"https://service.giosg.com:65536", port},
             {"https://service.giosg.com:", port},
             {"https://service.giosg.com:123456", port},
             {"https://[v1.fe]", "invalid host"},
             {"https://ser%76ice.giosg.com", "invalid host"},
             {"https://under_score.example", "invalid host"},
             {"https://300.1.1.1", "invalid host"},
             {"https://ho st", shape},
         }) {
        SCOPED_TRACE(test.url);
        std::string error;
        EXPECT_FALSE(parse_upstream_url(test.url, error).has_value());
        EXPECT_EQ(error, test.message);
    }
}

TEST(ParseConfig, BadUpstreamUrlIsReportedAtUpstreamUrl) {
    EXPECT_THAT(
        errors_after([](json::object& c) { section(c, "upstream")["url"] = "https://a:secret@giosg.com"; }),
        ElementsAre("/upstream/url: must not contain user info (tokens belong in \"credentials\")"));
}

}  // namespace
}  // namespace giosg

namespace giosg {
namespace {

using namespace config_test;

TEST(ParseConfig, PublicUrlIsAnOriginWithoutTrailingSlash) {
    EXPECT_FALSE(parsed_after([](json::object&) {}).public_url.has_value());
    EXPECT_EQ(parsed_after([](json::object& c) { c["public_url"] = "https://giosg-gw.corp.example/"; }).public_url,
              "https://giosg-gw.corp.example");
    EXPECT_EQ(parsed_after([](json::object& c) { c["public_url"] = "http://10.0.0.5:8080"; }).public_url,
              "http://10.0.0.5:8080");
}

TEST(ParseConfig, PublicUrlThatIsNotAnOriginNamesItsPath) {
    const auto error_for = [](const char* text) {
        return errors_after([&](json::object& c) { c["public_url"] = text; });
    };
    EXPECT_THAT(error_for("ftp://gw"), ElementsAre("/public_url: scheme must be http or https"));
    EXPECT_THAT(error_for("https://gw/api"), ElementsAre("/public_url: must be an origin only: no path, query or fragment"));
    EXPECT_THAT(error_for("https://gw?x=1"), ElementsAre("/public_url: must be an origin only: no path, query or fragment"));
    EXPECT_THAT(error_for("https://user:pw@gw"),
                ElementsAre("/public_url: must name a host (and optionally a port), without user information"));
    EXPECT_THAT(error_for("gw.example"),
                ElementsAre("/public_url: must be an absolute URL such as \"https://giosg-gw.corp.example\""));
}

TEST(ParseConfig, MaxRewriteBytesDefaultsTo8MiBAndMayBeZero) {
    EXPECT_EQ(parsed_after([](json::object&) {}).limits.max_rewrite_bytes, 8u * 1024 * 1024);
    EXPECT_EQ(parsed_after([](json::object& c) { c["limits"] = {{"max_rewrite_bytes", 0}}; }).limits.max_rewrite_bytes, 0u);
    EXPECT_THAT(errors_after([](json::object& c) { c["limits"] = {{"max_rewrite_bytes", -1}}; }),
                ElementsAre(::testing::HasSubstr("/limits/max_rewrite_bytes")));
}

}  // namespace
}  // namespace giosg
