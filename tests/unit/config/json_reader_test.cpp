// What json_reader checks for every section: unknown keys, types, duplicate keys, JSON syntax,
// and paths resolved against the config folder.
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

// ---- unknown keys, types, duplicates ---------------------------------------------------------

TEST(ParseConfig, UnknownKeysAnywhereAreReportedWithTheirPath) {
    EXPECT_THAT(
        errors_after([](json::object& c) {
            c["lisen"] = "127.0.0.1:1";
            section(c, "upstream")["tiemout_ms"] = 1;
            section(c, "credentials").at("acme").as_object()["token"] = "x";
            billing(c)["scope"] = json::array{"reports"};
            section(c, "policy")["sources"] = "file";
            c["audit"] = {{"path", "a.jsonl"}, {"rotate", true}};
            c["limits"] = {{"max_body", 1}};
        }),
        ElementsAre("/upstream/tiemout_ms: unknown key", "/credentials/acme/token: unknown key",
                    "/clients/billing/scope: unknown key", "/policy/sources: unknown key",
                    "/audit/rotate: unknown key", "/limits/max_body: unknown key", "/lisen: unknown key"));
}

TEST(ParseConfig, KeysInPathsAreEscapedAsJsonPointerTokens) {
    EXPECT_THAT(errors_after([](json::object& c) { c["a/b~c"] = 1; }), ElementsAre("/a~1b~0c: unknown key"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    section(c, "credentials")["team/x"] = {{"token_env", "X"}};
                }),
                ElementsAre("/credentials/team~1x: name must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
}

TEST(ParseConfig, WrongTypesAreReportedAtTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["listen"] = 8080;
                    c["upstream"] = "https://service.giosg.com";
                    billing(c)["scopes"] = "reports";
                    billing(c)["organizations"] = json::array{"org", 7};
                    c["audit"] = {{"path", nullptr}};
                    c["limits"] = json::array{};
                }),
                ElementsAre("/listen: must be a string", "/upstream: must be an object",
                            "/clients/billing/scopes: must be an array",
                            "/clients/billing/organizations/1: must be a non-empty string",
                            "/audit/path: must be a string", "/limits: must be an object"));
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "credentials")["acme"] = "GIOSG_API_TOKEN"; }),
                ElementsAre("/credentials/acme: must be an object"));
    EXPECT_THAT(errors_after([](json::object& c) { c["clients"] = json::array{}; }),
                ElementsAre("/clients: must be an object"));
}

TEST(ParseConfig, TopLevelMustBeAnObject) {
    for (std::string_view text : {"[]", "\"config\"", "null", "42"}) {
        SCOPED_TRACE(text);
        const ConfigResult result = parse_config(text, kBaseDir);
        EXPECT_FALSE(result.config.has_value());
        EXPECT_THAT(error_lines(result), ElementsAre("the configuration must be a JSON object"));
    }
}

TEST(ParseConfig, DuplicateJsonKeysAreErrorsAtTheirPath) {
    // boost::json alone would keep the last of each silently.
    const std::string text = R"({
        "listen": "127.0.0.1:1",
        "listen": "127.0.0.1:8080",
        "upstream": {"url": "https://service.giosg.com"},
        "credentials": {"acme": {"token_env": "GIOSG_API_TOKEN"}},
        "clients": {
            "billing": {"key_sha256": ")" +
                             digest_of('b') + R"(", "credential": "acme", "organizations": ["*"]},
            "billing": {
                "key_sha256": ")" +
                             std::string(kDigestHex) + R"(",
                "credential": "acme",
                "scopes": ["users"],
                "scopes": ["users"],
                "organizations": ["*"]
            }
        },
        "policy": {"credential": "acme"}
    })";
    const ConfigResult result = parse_config(text, kBaseDir);
    EXPECT_FALSE(result.config.has_value());
    EXPECT_THAT(error_lines(result), ElementsAre("/listen: duplicate key", "/clients/billing: duplicate key",
                                                 "/clients/billing/scopes: duplicate key"));
}

TEST(ParseConfig, DuplicateKeyInsideAnArrayElementNamesTheIndex) {
    const ConfigResult result =
        parse_config(R"({"listen": "127.0.0.1:1", "extra": [0, {"a": 1}, {"a": 1, "a": 2}]})", kBaseDir);
    EXPECT_THAT(error_lines(result), ::testing::Contains("/extra/2/a: duplicate key"));
}

// ---- JSON syntax -----------------------------------------------------------------------------

TEST(ParseConfig, SyntaxErrorIsOneErrorWithLineAndColumn) {
    const ConfigResult result = parse_config("{\n  \"listen\": \"127.0.0.1:8080\",\n  oops\n}\n", kBaseDir);
    EXPECT_FALSE(result.config.has_value());
    ASSERT_THAT(result.errors, SizeIs(1));
    EXPECT_EQ(result.errors[0].path, "");
    EXPECT_THAT(result.errors[0].message, HasSubstr("invalid JSON at line 3, column 3"));
}

TEST(ParseConfig, SyntaxErrorsOfEveryKindAreSingleErrors) {
    struct Case {
        std::string_view text;
        std::string_view position;
    };
    for (const Case& test : std::vector<Case>{{"", "line 1, column 1"},
                                              {"{\"listen\": ", "line 1, column 12"},
                                              {"{} {}", "line 1, column 4"},
                                              {"{\"a\": 1 /* unterminated", "line 1, column 24"},
                                              {"{\"a\":\n[1,,2]}", "line 2, column 4"},
                                              // a duplicate key before the syntax error is not reported
                                              {"{\"a\": 1, \"a\": 2,\n\"b\" 3}", "line 2, column 5"}}) {
        SCOPED_TRACE(test.text);
        const ConfigResult result = parse_config(test.text, kBaseDir);
        ASSERT_THAT(result.errors, SizeIs(1));
        EXPECT_EQ(result.errors[0].path, "");
        EXPECT_THAT(result.errors[0].message, HasSubstr(std::string(test.position)));
    }
}

// ---- paths -----------------------------------------------------------------------------------

TEST(ParseConfig, RelativePathsResolveAgainstTheConfigFolder) {
    const Config config = parsed_after([](json::object& c) {
        section(c, "upstream")["ca_file"] = "certs/ca.pem";
        section(c, "credentials")["beta"] = {{"token_file", "secrets/beta"}};
        section(c, "policy")["file"] = "../shared/policies.json";
        c["audit"] = {{"path", "logs/audit.jsonl"}};
    });
    EXPECT_EQ(config.upstream.ca_file, kBaseDir / "certs/ca.pem");
    EXPECT_EQ(config.credentials.at("beta").file, kBaseDir / "secrets/beta");
    EXPECT_EQ(config.policy.file, kBaseDir / "../shared/policies.json");
    EXPECT_EQ(config.audit.path, kBaseDir / "logs/audit.jsonl");
}

TEST(ParseConfig, AbsolutePathsAreKeptAsWritten) {
    const Config config = parsed_after([](json::object& c) {
        section(c, "upstream")["ca_file"] = "/etc/ssl/ca.pem";
        section(c, "credentials")["beta"] = {{"token_file", "/run/secrets/beta"}};
        section(c, "policy")["file"] = "/srv/policies.json";
        c["audit"] = {{"path", "/var/log/giosg/audit.jsonl"}};
    });
    EXPECT_EQ(config.upstream.ca_file, fs::path("/etc/ssl/ca.pem"));
    EXPECT_EQ(config.credentials.at("beta").file, fs::path("/run/secrets/beta"));
    EXPECT_EQ(config.policy.file, fs::path("/srv/policies.json"));
    EXPECT_EQ(config.audit.path, fs::path("/var/log/giosg/audit.jsonl"));
}

TEST(ParseConfig, EmptyPathsAreErrors) {
    EXPECT_THAT(
        errors_after([](json::object& c) {
            section(c, "upstream")["ca_file"] = "";
            c["audit"] = {{"path", ""}};
        }),
        ElementsAre("/upstream/ca_file: must be a non-empty path", "/audit/path: must be a non-empty path"));
}

TEST(ParseConfig, RelativeBaseDirIsMadeAbsolute) {
    const ConfigResult result = parse_config(json::serialize(minimal_config()), "conf");
    ASSERT_TRUE(result.config.has_value());
    EXPECT_TRUE(result.config->base_dir.is_absolute());
    EXPECT_EQ(result.config->audit.path, fs::current_path() / "conf" / "audit.jsonl");
}

}  // namespace
}  // namespace giosg
