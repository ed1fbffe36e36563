#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp, setenv, unsetenv

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/sha256.hpp"

namespace giosg {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

const fs::path kBaseDir = "/etc/giosg-gateway";

// SHA-256 of "" -- any 64 hex digits would do.
constexpr std::string_view kDigestHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string digest_of(char hex_digit) { return "sha256:" + std::string(64, hex_digit); }

// CONTRACT §2's example, comments and trailing commas as written there.
constexpr std::string_view kContractExample = R"jsonc({
  "listen": "127.0.0.1:8080",          // host:port; port 0 = any free port (the chosen one is logged)
  "admin_listen": "127.0.0.1:9901",    // /healthz /readyz /metrics; optional
  "workers": 0,                        // 0 = one per CPU core
  "upstream": {
    "url": "https://service.giosg.com", // http:// allowed (tests, sidecar to a local mock)
    "ca_file": null,                    // default: system trust store; verification is always on for https
    "connect_timeout_ms": 3000,
    "timeout_ms": 30000                 // from forwarding until the upstream's response head
  },
  "credentials": {                      // server-side giosg API tokens; never logged, never sent to clients
    "acme": { "token_env": "GIOSG_API_TOKEN" },      // or
    "beta": { "token_file": "/run/secrets/giosg-beta" }
  },
  "clients": {                          // internal callers
    "billing": {
      "key_sha256": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "credential": "acme",             // which server token this client's calls carry
      "scopes": ["reports"],            // granted giosg permissions: settings, users, reports
      "organizations": ["7f9e9580-095b-42c7-838c-c04e667b26f7"]  // or ["*"]
    }
  },
  "policy": {
    "source": "upstream",               // "upstream": live GET /api/v5/endpoints; "file": snapshot only
    "file": "policies/giosg-v5-endpoints.json", // snapshot; fallback when the live fetch fails
    "credential": "acme",               // token used to fetch the catalogue
    "refresh_s": 3600                   // 0 = never refresh
  },
  "audit": { "path": "audit.jsonl" },   // "-" = stdout
  "limits": { "max_header_bytes": 16384, "max_body_bytes": 10485760,
              "header_timeout_ms": 10000, "idle_timeout_ms": 60000, },
})jsonc";

/// The smallest valid config; tests change one thing in it.
json::object minimal_config() {
    return json::parse(R"({
        "listen": "127.0.0.1:8080",
        "upstream": {"url": "https://service.giosg.com"},
        "credentials": {"acme": {"token_env": "GIOSG_API_TOKEN"}},
        "clients": {
            "billing": {
                "key_sha256": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "credential": "acme",
                "organizations": ["*"]
            }
        },
        "policy": {"credential": "acme"}
    })")
        .as_object();
}

json::object& section(json::object& config, std::string_view key) { return config.at(key).as_object(); }
json::object& billing(json::object& config) { return section(config, "clients").at("billing").as_object(); }

ConfigResult parse(const json::object& config) { return parse_config(json::serialize(config), kBaseDir); }

std::vector<std::string> error_lines(const ConfigResult& result) {
    std::vector<std::string> lines;
    for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
    return lines;
}

std::vector<std::string> errors_after(const std::function<void(json::object&)>& change) {
    json::object config = minimal_config();
    change(config);
    const ConfigResult result = parse(config);
    EXPECT_EQ(result.config.has_value(), result.errors.empty());
    return error_lines(result);
}

Config parsed_after(const std::function<void(json::object&)>& change) {
    json::object config = minimal_config();
    change(config);
    ConfigResult result = parse(config);
    EXPECT_THAT(error_lines(result), IsEmpty());
    return result.config.value_or(Config{});
}

/// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "giosg-config-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const fs::path& path() const noexcept { return path_; }

    fs::path write(const std::string& name, std::string_view content) const {
        const fs::path file = path_ / name;
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }

private:
    fs::path path_;
};

/// Sets (or with nullptr unsets) an environment variable for the lifetime of the object.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
        if (value == nullptr) {
            unsetenv(name_.c_str());
        } else {
            setenv(name_.c_str(), value, 1);
        }
    }
    ~ScopedEnv() { unsetenv(name_.c_str()); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
};

// ---- a valid config --------------------------------------------------------------------------

TEST(ParseConfig, ContractExampleWithCommentsAndTrailingCommasParsesToItsValues) {
    const ConfigResult result = parse_config(kContractExample, kBaseDir);
    ASSERT_THAT(error_lines(result), IsEmpty());
    ASSERT_TRUE(result.config.has_value());
    const Config& config = *result.config;

    EXPECT_EQ(config.base_dir, kBaseDir);
    EXPECT_EQ(config.listen.host, "127.0.0.1");
    EXPECT_EQ(config.listen.port, 8080);
    ASSERT_TRUE(config.admin_listen.has_value());
    EXPECT_EQ(config.admin_listen->host, "127.0.0.1");
    EXPECT_EQ(config.admin_listen->port, 9901);
    EXPECT_EQ(config.workers, 0u);

    EXPECT_TRUE(config.upstream.url.tls);
    EXPECT_EQ(config.upstream.url.host, "service.giosg.com");
    EXPECT_EQ(config.upstream.url.port, 443);
    EXPECT_EQ(config.upstream.url.authority, "service.giosg.com");
    EXPECT_EQ(config.upstream.url.origin, "https://service.giosg.com");
    EXPECT_FALSE(config.upstream.ca_file.has_value());
    EXPECT_EQ(config.upstream.connect_timeout, std::chrono::milliseconds(3000));
    EXPECT_EQ(config.upstream.timeout, std::chrono::milliseconds(30000));
    EXPECT_EQ(config.upstream.max_idle_connections, 256u);

    ASSERT_EQ(config.credentials.size(), 2u);
    const CredentialConfig& acme = config.credentials.at("acme");
    EXPECT_EQ(acme.source, CredentialConfig::Source::env);
    EXPECT_EQ(acme.env, "GIOSG_API_TOKEN");
    const CredentialConfig& beta = config.credentials.at("beta");
    EXPECT_EQ(beta.source, CredentialConfig::Source::file);
    EXPECT_EQ(beta.file, fs::path("/run/secrets/giosg-beta"));

    ASSERT_EQ(config.clients.size(), 1u);
    const ClientConfig& client = config.clients[0];
    EXPECT_EQ(client.name, "billing");
    EXPECT_EQ(client.key_sha256, parse_key_digest(kDigestHex).value());
    EXPECT_EQ(client.credential, "acme");
    EXPECT_EQ(client.scopes, kScopeReports);
    EXPECT_THAT(client.scope_names, ElementsAre("reports"));
    EXPECT_FALSE(client.all_organizations);
    EXPECT_THAT(client.organizations, ElementsAre("7f9e9580-095b-42c7-838c-c04e667b26f7"));

    EXPECT_EQ(config.policy.source, PolicyConfig::Source::upstream);
    EXPECT_EQ(config.policy.file, kBaseDir / "policies/giosg-v5-endpoints.json");
    EXPECT_EQ(config.policy.credential, "acme");
    EXPECT_EQ(config.policy.refresh, std::chrono::seconds(3600));

    EXPECT_EQ(config.audit.path, kBaseDir / "audit.jsonl");
    EXPECT_FALSE(config.audit.to_stdout);

    EXPECT_EQ(config.limits.max_header_bytes, 16384u);
    EXPECT_EQ(config.limits.max_body_bytes, 10485760u);
    EXPECT_EQ(config.limits.header_timeout, std::chrono::milliseconds(10000));
    EXPECT_EQ(config.limits.idle_timeout, std::chrono::milliseconds(60000));
}

TEST(ParseConfig, OmittedOptionalKeysTakeTheContractDefaults) {
    const Config config = parsed_after([](json::object&) {});
    EXPECT_FALSE(config.admin_listen.has_value());
    EXPECT_EQ(config.workers, 0u);
    EXPECT_FALSE(config.upstream.ca_file.has_value());
    EXPECT_EQ(config.upstream.connect_timeout, std::chrono::milliseconds(3000));
    EXPECT_EQ(config.upstream.timeout, std::chrono::milliseconds(30000));
    EXPECT_EQ(config.clients.at(0).scopes, 0u);
    EXPECT_THAT(config.clients.at(0).scope_names, IsEmpty());
    EXPECT_TRUE(config.clients.at(0).all_organizations);
    EXPECT_THAT(config.clients.at(0).organizations, IsEmpty());
    EXPECT_EQ(config.policy.source, PolicyConfig::Source::upstream);
    EXPECT_FALSE(config.policy.file.has_value());
    EXPECT_EQ(config.policy.refresh, std::chrono::seconds(3600));
    EXPECT_EQ(config.audit.path, kBaseDir / "audit.jsonl");
    EXPECT_FALSE(config.audit.to_stdout);
    EXPECT_EQ(config.limits.max_header_bytes, 16384u);
    EXPECT_EQ(config.limits.max_body_bytes, 10485760u);
    EXPECT_EQ(config.limits.header_timeout, std::chrono::milliseconds(10000));
    EXPECT_EQ(config.limits.idle_timeout, std::chrono::milliseconds(60000));
}

TEST(ParseConfig, ClientsKeepConfigOrder) {
    const Config config = parsed_after([](json::object& c) {
        json::object& clients = section(c, "clients");
        for (const char* name : {"zeta", "alpha", "mid"}) {
            clients[name] = {{"key_sha256", digest_of(name[0] == 'z'   ? 'a'
                                                      : name[0] == 'a' ? 'b'
                                                                       : 'c')},
                             {"credential", "acme"},
                             {"organizations", json::array{"*"}}};
        }
    });
    ASSERT_EQ(config.clients.size(), 4u);
    EXPECT_EQ(config.clients[0].name, "billing");
    EXPECT_EQ(config.clients[1].name, "zeta");
    EXPECT_EQ(config.clients[2].name, "alpha");
    EXPECT_EQ(config.clients[3].name, "mid");
}

// ---- required keys ---------------------------------------------------------------------------

TEST(ParseConfig, EachMissingRequiredKeyIsReportedAtItsPath) {
    struct Case {
        std::function<void(json::object&)> remove;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {[](json::object& c) { c.erase("listen"); }, "/listen: missing required key"},
        {[](json::object& c) { c.erase("upstream"); }, "/upstream: missing required key"},
        {[](json::object& c) { section(c, "upstream").erase("url"); }, "/upstream/url: missing required key"},
        {[](json::object& c) { c.erase("credentials"); }, "/credentials: missing required key"},
        {[](json::object& c) { c.erase("clients"); }, "/clients: missing required key"},
        {[](json::object& c) { billing(c).erase("key_sha256"); },
         "/clients/billing/key_sha256: missing required key"},
        {[](json::object& c) { billing(c).erase("credential"); },
         "/clients/billing/credential: missing required key"},
        {[](json::object& c) { billing(c).erase("organizations"); },
         "/clients/billing/organizations: missing required key"},
        {[](json::object& c) { c.erase("policy"); }, "/policy: missing required key"},
        {[](json::object& c) { section(c, "policy").erase("credential"); },
         "/policy/credential: required when source is \"upstream\""},
    };
    for (const Case& test : cases) {
        SCOPED_TRACE(test.expected);
        EXPECT_THAT(errors_after(test.remove), ElementsAre(test.expected));
    }
}

TEST(ParseConfig, CredentialsAndClientsNeedAtLeastOneEntry) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["credentials"] = json::object{};
                    billing(c).erase("credential");
                    section(c, "policy")["source"] = "file";
                    section(c, "policy")["file"] = "p.json";
                    section(c, "policy").erase("credential");
                }),
                ElementsAre("/credentials: must have at least one entry",
                            "/clients/billing/credential: missing required key"));
    EXPECT_THAT(errors_after([](json::object& c) { c["clients"] = json::object{}; }),
                ElementsAre("/clients: must have at least one entry"));
}

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

// ---- many errors at once ---------------------------------------------------------------------

TEST(ParseConfig, EveryProblemIsReportedNotJustTheFirst) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    c.erase("listen");
                    section(c, "upstream")["url"] = "ftp://service.giosg.com";
                    billing(c)["credential"] = "acmee";
                    billing(c)["scopes"] = json::array{"report", "users"};
                    c["limits"] = {{"max_body_bytes", 0}};
                    c["typo"] = true;
                }),
                ElementsAre("/listen: missing required key",
                            "/upstream/url: must be http:// or https:// followed by host[:port]",
                            "/clients/billing/credential: unknown credential \"acmee\"",
                            "/clients/billing/scopes/0: unknown scope \"report\"",
                            "/limits/max_body_bytes: must be a positive integer", "/typo: unknown key"));
}

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

// ---- numbers ---------------------------------------------------------------------------------

TEST(ParseConfig, IntegersOutsideTheirRangeAreRejected) {
    struct Case {
        std::function<void(json::object&)> change;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {[](json::object& c) { c["workers"] = -1; }, "/workers: must be a non-negative integer"},
        {[](json::object& c) { c["workers"] = 1025; }, "/workers: must be at most 1024"},
        {[](json::object& c) { c["workers"] = 1.5; }, "/workers: must be a non-negative integer"},
        {[](json::object& c) { c["workers"] = "2"; }, "/workers: must be a non-negative integer"},
        {[](json::object& c) { c["workers"] = true; }, "/workers: must be a non-negative integer"},
        {[](json::object& c) { c["workers"] = std::uint64_t{18446744073709551615u}; },
         "/workers: must be at most 1024"},
        {[](json::object& c) { section(c, "upstream")["connect_timeout_ms"] = 0; },
         "/upstream/connect_timeout_ms: must be a positive integer"},
        {[](json::object& c) { section(c, "upstream")["timeout_ms"] = 86400001; },
         "/upstream/timeout_ms: must be at most 86400000"},
        {[](json::object& c) { section(c, "upstream")["timeout_ms"] = 3000.0; },
         "/upstream/timeout_ms: must be a positive integer"},
        {[](json::object& c) { section(c, "upstream")["max_idle_connections"] = -1; },
         "/upstream/max_idle_connections: must be a non-negative integer"},
        {[](json::object& c) { section(c, "upstream")["max_idle_connections"] = 65537; },
         "/upstream/max_idle_connections: must be at most 65536"},
        {[](json::object& c) { section(c, "policy")["refresh_s"] = -1; },
         "/policy/refresh_s: must be a non-negative integer"},
        {[](json::object& c) {
             c["limits"] = {{"max_header_bytes", 1023}};
         },
         "/limits/max_header_bytes: must be an integer from 1024 to 1048576"},
        {[](json::object& c) {
             c["limits"] = {{"max_header_bytes", 1048577}};
         },
         "/limits/max_header_bytes: must be an integer from 1024 to 1048576"},
        {[](json::object& c) {
             c["limits"] = {{"max_body_bytes", 1073741825}};
         },
         "/limits/max_body_bytes: must be at most 1073741824"},
        {[](json::object& c) {
             c["limits"] = {{"header_timeout_ms", 0}};
         },
         "/limits/header_timeout_ms: must be a positive integer"},
        {[](json::object& c) {
             c["limits"] = {{"idle_timeout_ms", -5}};
         },
         "/limits/idle_timeout_ms: must be a positive integer"},
    };
    for (const Case& test : cases) {
        SCOPED_TRACE(test.expected);
        EXPECT_THAT(errors_after(test.change), ElementsAre(test.expected));
    }
}

TEST(ParseConfig, IntegerBoundsThemselvesAreAccepted) {
    const Config config = parsed_after([](json::object& c) {
        c["workers"] = 1024;
        section(c, "upstream")["connect_timeout_ms"] = 1;
        section(c, "upstream")["timeout_ms"] = 86400000;
        section(c, "upstream")["max_idle_connections"] = 65536;
        section(c, "policy")["refresh_s"] = 0;
        c["limits"] = {{"max_header_bytes", 1024},
                       {"max_body_bytes", 1073741824},
                       {"header_timeout_ms", 1},
                       {"idle_timeout_ms", 86400000}};
    });
    EXPECT_EQ(config.workers, 1024u);
    EXPECT_EQ(config.upstream.connect_timeout, std::chrono::milliseconds(1));
    EXPECT_EQ(config.upstream.timeout, std::chrono::milliseconds(86400000));
    EXPECT_EQ(config.upstream.max_idle_connections, 65536u);
    EXPECT_EQ(config.policy.refresh, std::chrono::seconds(0));
    EXPECT_EQ(config.limits.max_header_bytes, 1024u);
    EXPECT_EQ(config.limits.max_body_bytes, 1073741824u);
    EXPECT_EQ(config.limits.header_timeout, std::chrono::milliseconds(1));
    EXPECT_EQ(config.limits.idle_timeout, std::chrono::milliseconds(86400000));
}

// ---- credentials -----------------------------------------------------------------------------

TEST(ParseConfig, CredentialNeedsExactlyOneOfTokenEnvOrTokenFile) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    section(c, "credentials")["acme"] = {{"token_env", "A"}, {"token_file", "/a"}};
                }),
                ElementsAre("/credentials/acme: must have exactly one of \"token_env\" or \"token_file\""));
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "credentials")["acme"] = json::object{}; }),
                ElementsAre("/credentials/acme: must have exactly one of \"token_env\" or \"token_file\""));
}

TEST(ParseConfig, TokenEnvMustBeAVariableName) {
    for (const char* name : {"", "1ABC", "GIOSG-TOKEN", "A B", "A=B"}) {
        SCOPED_TRACE(name);
        EXPECT_THAT(errors_after([&](json::object& c) {
                        section(c, "credentials")["acme"] = {{"token_env", name}};
                    }),
                    ElementsAre("/credentials/acme/token_env: must be an environment variable name "
                                "([A-Za-z_][A-Za-z0-9_]*)"));
    }
    EXPECT_THAT(errors_after([](json::object& c) {
                    section(c, "credentials")["acme"] = {{"token_env", 5}};
                }),
                ElementsAre("/credentials/acme/token_env: must be a string"));
}

TEST(ParseConfig, ClientReferencingAnUnknownCredentialIsAnError) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["credential"] = "acmee"; }),
                ElementsAre("/clients/billing/credential: unknown credential \"acmee\""));
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "policy")["credential"] = "beta"; }),
                ElementsAre("/policy/credential: unknown credential \"beta\""));
}

TEST(ParseConfig, ABrokenCredentialsSectionDoesNotCascadeIntoReferences) {
    EXPECT_THAT(errors_after([](json::object& c) { c.erase("credentials"); }),
                ElementsAre("/credentials: missing required key"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    section(c, "credentials")["acme"] = {{"token_env", 1}};
                }),
                ElementsAre("/credentials/acme/token_env: must be a string"));
}

// ---- clients ---------------------------------------------------------------------------------

TEST(ParseConfig, UnknownScopeNamesItsIndexAndValue) {
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["scopes"] = json::array{"report"}; }),
                ElementsAre("/clients/billing/scopes/0: unknown scope \"report\""));
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["scopes"] = json::array{"users", "Settings"};
                }),
                ElementsAre("/clients/billing/scopes/1: unknown scope \"Settings\""));
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["scopes"] = json::array{"users", 1};
                }),
                ElementsAre("/clients/billing/scopes/1: must be a string"));
}

TEST(ParseConfig, DuplicateScopeIsAnError) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    billing(c)["scopes"] = json::array{"reports", "users", "reports"};
                }),
                ElementsAre("/clients/billing/scopes/2: duplicate scope \"reports\""));
}

TEST(ParseConfig, ScopesBecomeBitsAndKeepTheirNames) {
    const Config config = parsed_after([](json::object& c) {
        billing(c)["scopes"] = json::array{"users", "settings", "reports"};
    });
    EXPECT_EQ(config.clients.at(0).scopes, kScopeUsers | kScopeSettings | kScopeReports);
    EXPECT_THAT(config.clients.at(0).scope_names, ElementsAre("users", "settings", "reports"));
}

TEST(ParseConfig, OrganizationsAreAListOfIdsOrExactlyStar) {
    const Config listed = parsed_after([](json::object& c) {
        billing(c)["organizations"] = json::array{"org-b", "org-a"};
    });
    EXPECT_FALSE(listed.clients.at(0).all_organizations);
    EXPECT_THAT(listed.clients.at(0).organizations, ElementsAre("org-b", "org-a"));

    const Config all = parsed_after([](json::object& c) { billing(c)["organizations"] = json::array{"*"}; });
    EXPECT_TRUE(all.clients.at(0).all_organizations);
    EXPECT_THAT(all.clients.at(0).organizations, IsEmpty());
}

TEST(ParseConfig, OrganizationsRejectEmptyMixedAndUnusableEntries) {
    struct Case {
        json::array organizations;
        std::string expected;
    };
    for (const Case& test : std::vector<Case>{
             {json::array{},
              "/clients/billing/organizations: must list at least one organization id, or [\"*\"] for all"},
             {json::array{"*", "org"}, "/clients/billing/organizations: \"*\" must be the only entry"},
             {json::array{"org", "*"}, "/clients/billing/organizations: \"*\" must be the only entry"},
             {json::array{"org", ""}, "/clients/billing/organizations/1: must be a non-empty string"},
             {json::array{"org", "org"}, "/clients/billing/organizations/1: duplicate organization \"org\""},
             {json::array{"a/b"},
              "/clients/billing/organizations/0: must be usable as a path segment (no spaces, "
              "control characters, non-ASCII bytes or / \\ ? #)"},
             {json::array{" org"},
              "/clients/billing/organizations/0: must be usable as a path segment (no spaces, "
              "control characters, non-ASCII bytes or / \\ ? #)"},
         }) {
        SCOPED_TRACE(test.expected);
        EXPECT_THAT(errors_after([&](json::object& c) { billing(c)["organizations"] = test.organizations; }),
                    ElementsAre(test.expected));
    }
}

TEST(ParseConfig, KeySha256AcceptsPrefixedOrBareHexInEitherCase) {
    std::string upper(kDigestHex);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const std::string& text :
         {std::string("sha256:") + std::string(kDigestHex), std::string(kDigestHex), upper}) {
        SCOPED_TRACE(text);
        const Config config = parsed_after([&](json::object& c) { billing(c)["key_sha256"] = text; });
        EXPECT_EQ(config.clients.at(0).key_sha256, parse_key_digest(kDigestHex).value());
    }
    EXPECT_THAT(
        errors_after([](json::object& c) { billing(c)["key_sha256"] = "sha256:abc"; }),
        ElementsAre(
            "/clients/billing/key_sha256: must be \"sha256:\" followed by 64 hex digits (see hash-key)"));
}

TEST(ParseConfig, TwoClientsWithTheSameKeyAreAnErrorNamingBoth) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    std::string upper_bare(kDigestHex);
                    for (char& ch : upper_bare) {
                        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                    }
                    section(c, "clients")["reports-job"] = {{"key_sha256", upper_bare},
                                                            {"credential", "acme"},
                                                            {"organizations", json::array{"*"}}};
                }),
                ElementsAre("/clients/reports-job/key_sha256: same key as client \"billing\""));
}

TEST(ParseConfig, ClientAndCredentialNamesAreLabelSafe) {
    const std::string message = "name must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
    for (const std::string& name : {std::string(""), std::string("bill ing"), std::string("bill\"ing"),
                                    std::string("b\xc3\xa4r"), std::string(65, 'a')}) {
        SCOPED_TRACE(name);
        EXPECT_THAT(errors_after([&](json::object& c) {
                        json::value entry = billing(c);
                        section(c, "clients").erase("billing");
                        section(c, "clients")[name] = entry;
                    }),
                    ElementsAre("/clients/" + name + ": " + message));
    }
    EXPECT_THAT(parsed_after([](json::object& c) {
                    json::value entry = billing(c);
                    section(c, "clients").erase("billing");
                    section(c, "clients")[std::string(64, 'a')] = entry;
                    section(c, "clients")["a.B_c-9"] = {{"key_sha256", digest_of('f')},
                                                        {"credential", "acme"},
                                                        {"organizations", json::array{"*"}}};
                }).clients,
                SizeIs(2));
}

// ---- policy ----------------------------------------------------------------------------------

TEST(ParseConfig, PolicySourceFileRequiresAFileAndNoCredential) {
    const Config config = parsed_after([](json::object& c) {
        c["policy"] = {{"source", "file"}, {"file", "policies/snapshot.json"}};
    });
    EXPECT_EQ(config.policy.source, PolicyConfig::Source::file);
    EXPECT_EQ(config.policy.file, kBaseDir / "policies/snapshot.json");
    EXPECT_EQ(config.policy.credential, "");

    EXPECT_THAT(errors_after([](json::object& c) {
                    c["policy"] = {{"source", "file"}};
                }),
                ElementsAre("/policy/file: required when source is \"file\""));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["policy"] = {{"source", "file"}, {"file", nullptr}};
                }),
                ElementsAre("/policy/file: required when source is \"file\""));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["policy"] = {{"source", "file"}, {"file", 3}};
                }),
                ElementsAre("/policy/file: must be a string or null"));
}

TEST(ParseConfig, PolicySourceMustBeUpstreamOrFile) {
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "policy")["source"] = "live"; }),
                ElementsAre("/policy/source: must be \"upstream\" or \"file\""));
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

TEST(ParseConfig, AuditPathDashMeansStdout) {
    const Config config = parsed_after([](json::object& c) { c["audit"] = {{"path", "-"}}; });
    EXPECT_TRUE(config.audit.to_stdout);
}

TEST(ParseConfig, AuditIntegrityDefaults) {
    const Config config = parsed_after([](json::object&) {});
    EXPECT_EQ(config.audit.fsync, AuditConfig::Fsync::batch);
    EXPECT_EQ(config.audit.fsync_interval, std::chrono::milliseconds(1000));
    EXPECT_EQ(config.audit.rotate_bytes, 104857600u);
    EXPECT_EQ(config.audit.keep, 0u);
    EXPECT_EQ(config.audit.on_failure, AuditConfig::OnFailure::deny);
    EXPECT_FALSE(config.audit.signing_key_file);
    EXPECT_EQ(config.audit.checkpoint_interval, std::chrono::seconds(60));
    EXPECT_FALSE(config.audit.syslog);
}

TEST(ParseConfig, AuditIntegrityKeysAreRead) {
    const Config config = parsed_after([](json::object& c) {
        c["audit"] = {{"path", "a.jsonl"},         {"fsync", "always"},        {"fsync_ms", 5},
                      {"rotate_bytes", 0},         {"keep", 7},                {"on_failure", "allow"},
                      {"signing_key_file", "k.key"}, {"checkpoint_s", 30},
                      {"syslog", {{"address", "[::1]:6514"}, {"tls", true}, {"ca_file", "ca.pem"},
                                  {"facility", 16}, {"queue", 50}}}};
    });
    EXPECT_EQ(config.audit.fsync, AuditConfig::Fsync::always);
    EXPECT_EQ(config.audit.fsync_interval, std::chrono::milliseconds(5));
    EXPECT_EQ(config.audit.rotate_bytes, 0u);
    EXPECT_EQ(config.audit.keep, 7u);
    EXPECT_EQ(config.audit.on_failure, AuditConfig::OnFailure::allow);
    EXPECT_EQ(config.audit.signing_key_file, kBaseDir / "k.key");
    EXPECT_EQ(config.audit.checkpoint_interval, std::chrono::seconds(30));
    ASSERT_TRUE(config.audit.syslog);
    EXPECT_EQ(config.audit.syslog->address.host, "::1");
    EXPECT_EQ(config.audit.syslog->address.port, 6514);
    EXPECT_TRUE(config.audit.syslog->tls);
    EXPECT_EQ(config.audit.syslog->ca_file, kBaseDir / "ca.pem");
    EXPECT_EQ(config.audit.syslog->facility, 16);
    EXPECT_EQ(config.audit.syslog->queue, 50u);
}

TEST(ParseConfig, BadAuditIntegrityValuesAreNamedByPath) {
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["audit"] = {{"fsync", "sometimes"}, {"fsync_ms", 0},       {"rotate_bytes", 100},
                                  {"keep", -1},           {"on_failure", "drop"}, {"checkpoint_s", 0},
                                  {"syslog", {{"address", "127.0.0.1:0"}, {"tls", "yes"}, {"facility", 24}, {"extra", 1}}}};
                }),
                UnorderedElementsAre(
                    "/audit/fsync: must be \"always\", \"batch\" or \"never\"",
                    HasSubstr("/audit/fsync_ms: "), "/audit/rotate_bytes: must be 0 (no size rotation) or at least 4096",
                    HasSubstr("/audit/keep: "), "/audit/on_failure: must be \"deny\" or \"allow\"",
                    HasSubstr("/audit/checkpoint_s: "), "/audit/syslog/address: needs a port",
                    "/audit/syslog/tls: must be true or false", HasSubstr("/audit/syslog/facility: "),
                    "/audit/syslog/extra: unknown key"));
    EXPECT_THAT(errors_after([](json::object& c) { c["audit"] = {{"syslog", {{"tls", false}}}}; }),
                ElementsAre("/audit/syslog/address: missing required key"));
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

// ---- key digests -----------------------------------------------------------------------------

TEST(ParseKeyDigest, AcceptsPrefixedAndBareHexOfEitherCase) {
    const std::optional<KeyDigest> lower = parse_key_digest(std::string("sha256:") + std::string(kDigestHex));
    ASSERT_TRUE(lower.has_value());
    EXPECT_EQ((*lower)[0], 0xe3);
    EXPECT_EQ((*lower)[31], 0x55);
    EXPECT_EQ(parse_key_digest(kDigestHex), lower);
    EXPECT_EQ(parse_key_digest("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"), lower);
}

TEST(ParseKeyDigest, RejectsWrongLengthPrefixOrDigits) {
    const std::string hex(kDigestHex);
    for (const std::string& text :
         {std::string(), std::string("sha256:"), hex.substr(1), hex + "0", "sha256:" + hex.substr(1),
          "SHA256:" + hex, "sha-256:" + hex, "sha256: " + hex.substr(1), "g" + hex.substr(1),
          " " + hex.substr(1), hex.substr(0, 63) + "\n"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(parse_key_digest(text).has_value());
    }
}

TEST(ParseKeyDigest, ReadsBackWhatFormatKeyDigestPrints) {
    const KeyDigest digest = sha256("internal-client-key");
    EXPECT_EQ(parse_key_digest(format_key_digest(digest)), digest);
}

// ---- load_config -----------------------------------------------------------------------------

TEST(LoadConfig, UsesTheFilesFolderAsBaseDir) {
    const TempDir dir;
    const fs::path file = dir.write("gateway.jsonc", kContractExample);
    const ConfigResult result = load_config(file);
    ASSERT_THAT(error_lines(result), IsEmpty());
    EXPECT_EQ(result.config->file, file);
    EXPECT_EQ(result.config->base_dir, dir.path());
    EXPECT_EQ(result.config->audit.path, dir.path() / "audit.jsonl");
    EXPECT_EQ(result.config->policy.file, dir.path() / "policies/giosg-v5-endpoints.json");
}

TEST(LoadConfig, ARelativeFileNameIsMadeAbsolute) {
    const TempDir dir;
    const fs::path file = dir.write("gateway.json", json::serialize(minimal_config()));
    const fs::path relative = fs::relative(file);
    ASSERT_TRUE(relative.is_relative());
    const ConfigResult result = load_config(relative);
    ASSERT_THAT(error_lines(result), IsEmpty());
    EXPECT_TRUE(result.config->file.is_absolute());
    EXPECT_TRUE(fs::equivalent(result.config->file, file));
    EXPECT_TRUE(fs::equivalent(result.config->base_dir, dir.path()));
    EXPECT_TRUE(result.config->audit.path.is_absolute());
}

TEST(LoadConfig, AnUnreadableFileIsOneErrorWithoutPath) {
    const TempDir dir;
    const ConfigResult result = load_config(dir.path() / "missing.json");
    EXPECT_FALSE(result.config.has_value());
    ASSERT_THAT(result.errors, SizeIs(1));
    EXPECT_EQ(result.errors[0].path, "");
    EXPECT_EQ(result.errors[0].message,
              "cannot read " + (dir.path() / "missing.json").string() + ": No such file or directory");

    const ConfigResult directory = load_config(dir.path());
    ASSERT_THAT(directory.errors, SizeIs(1));
    EXPECT_THAT(directory.errors[0].message, HasSubstr("cannot read"));
}

TEST(LoadConfig, ErrorsInTheFileCarryTheirPaths) {
    const TempDir dir;
    json::object config = minimal_config();
    billing(config)["scopes"] = json::array{"report"};
    const ConfigResult result = load_config(dir.write("gateway.json", json::serialize(config)));
    EXPECT_THAT(error_lines(result), ElementsAre("/clients/billing/scopes/0: unknown scope \"report\""));
}

// ---- load_credentials ------------------------------------------------------------------------

Config config_with_credentials(const std::function<void(json::object&)>& credentials) {
    return parsed_after([&](json::object& c) {
        json::object& entries = section(c, "credentials");
        entries.clear();
        credentials(entries);
        billing(c)["credential"] = entries.begin()->key();
        section(c, "policy")["credential"] = entries.begin()->key();
    });
}

TEST(LoadCredentials, ReadsTokensFromTheEnvironment) {
    const ScopedEnv env("GIOSG_CONFIG_TEST_TOKEN", "tok_3f9a.b-c");
    const Config config = config_with_credentials([](json::object& c) {
        c["acme"] = {{"token_env", "GIOSG_CONFIG_TEST_TOKEN"}};
    });
    const CredentialResult result = load_credentials(config);
    EXPECT_THAT(result.errors, IsEmpty());
    ASSERT_EQ(result.credentials.count("acme"), 1u);
    EXPECT_EQ(result.credentials.at("acme").reveal(), "tok_3f9a.b-c");
}

TEST(LoadCredentials, MissingOrEmptyVariableIsAnErrorNamingIt) {
    const ScopedEnv unset("GIOSG_CONFIG_TEST_UNSET", nullptr);
    const ScopedEnv empty("GIOSG_CONFIG_TEST_EMPTY", "");
    const Config config = config_with_credentials([](json::object& c) {
        c["acme"] = {{"token_env", "GIOSG_CONFIG_TEST_UNSET"}};
        c["beta"] = {{"token_env", "GIOSG_CONFIG_TEST_EMPTY"}};
    });
    const CredentialResult result = load_credentials(config);
    EXPECT_THAT(result.credentials, IsEmpty());
    std::vector<std::string> lines;
    for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
    EXPECT_THAT(
        lines,
        ElementsAre("/credentials/acme/token_env: environment variable GIOSG_CONFIG_TEST_UNSET is not set",
                    "/credentials/beta/token_env: environment variable GIOSG_CONFIG_TEST_EMPTY is empty"));
}

TEST(LoadCredentials, TokenFileHasOneTrailingCrLfOrLfStripped) {
    const TempDir dir;
    dir.write("crlf", "tok-crlf\r\n");
    dir.write("lf", "tok-lf\n");
    dir.write("bare", "tok-bare");
    const Config config = config_with_credentials([&](json::object& c) {
        c["crlf"] = {{"token_file", (dir.path() / "crlf").string()}};
        c["lf"] = {{"token_file", (dir.path() / "lf").string()}};
        c["bare"] = {{"token_file", (dir.path() / "bare").string()}};
    });
    const CredentialResult result = load_credentials(config);
    EXPECT_THAT(result.errors, IsEmpty());
    EXPECT_EQ(result.credentials.at("crlf").reveal(), "tok-crlf");
    EXPECT_EQ(result.credentials.at("lf").reveal(), "tok-lf");
    EXPECT_EQ(result.credentials.at("bare").reveal(), "tok-bare");
}

TEST(LoadCredentials, RelativeTokenFileIsReadFromTheConfigFolder) {
    const TempDir dir;
    dir.write("token", "tok-relative\n");
    json::object document = minimal_config();
    section(document, "credentials")["acme"] = {{"token_file", "token"}};
    const ConfigResult loaded = load_config(dir.write("gateway.json", json::serialize(document)));
    ASSERT_THAT(error_lines(loaded), IsEmpty());
    const CredentialResult result = load_credentials(*loaded.config);
    EXPECT_THAT(result.errors, IsEmpty());
    EXPECT_EQ(result.credentials.at("acme").reveal(), "tok-relative");
}

TEST(LoadCredentials, BadTokenFilesAreErrorsThatNeverQuoteTheToken) {
    const TempDir dir;
    const fs::path missing = dir.path() / "missing";
    dir.write("empty", "");
    dir.write("newline-only", "\r\n");
    dir.write("two-lines", "hunter2-first\nhunter2-second\n");
    dir.write("space", "hunter2 spaced\n");
    dir.write("bom", "\xEF\xBB\xBFhunter2-bom\n");
    dir.write("nul", std::string("hunter2\0nul", 11));
    const Config config = config_with_credentials([&](json::object& c) {
        for (const char* name : {"missing", "empty", "newline-only", "two-lines", "space", "bom", "nul"}) {
            c[name] = {{"token_file", (dir.path() / name).string()}};
        }
    });
    const CredentialResult result = load_credentials(config);
    EXPECT_THAT(result.credentials, IsEmpty());
    std::vector<std::string> lines;
    for (const ConfigError& error : result.errors) {
        lines.push_back(error.to_string());
        EXPECT_THAT(error.message, Not(HasSubstr("hunter2")));
    }
    const auto file = [&](const char* name) { return "token file " + (dir.path() / name).string(); };
    const std::string bad_bytes = " contains spaces, control characters or non-ASCII bytes";
    // std::map order: by credential name
    EXPECT_THAT(lines,
                ElementsAre("/credentials/bom/token_file: " + file("bom") + bad_bytes,
                            "/credentials/empty/token_file: " + file("empty") + " is empty",
                            "/credentials/missing/token_file: cannot read " + missing.string() +
                                ": No such file or directory",
                            "/credentials/newline-only/token_file: " + file("newline-only") + " is empty",
                            "/credentials/nul/token_file: " + file("nul") + bad_bytes,
                            "/credentials/space/token_file: " + file("space") + bad_bytes,
                            "/credentials/two-lines/token_file: " + file("two-lines") + bad_bytes));
}

TEST(LoadCredentials, EnvironmentTokenWithControlCharactersIsRejectedWithoutQuotingIt) {
    const ScopedEnv env("GIOSG_CONFIG_TEST_INJECT", "hunter2\r\nX-Evil: 1");
    const Config config = config_with_credentials([](json::object& c) {
        c["acme"] = {{"token_env", "GIOSG_CONFIG_TEST_INJECT"}};
    });
    const CredentialResult result = load_credentials(config);
    EXPECT_THAT(result.credentials, IsEmpty());
    ASSERT_THAT(result.errors, SizeIs(1));
    EXPECT_EQ(
        result.errors[0].to_string(),
        "/credentials/acme/token_env: environment variable GIOSG_CONFIG_TEST_INJECT contains spaces, control "
        "characters or non-ASCII bytes");
}

TEST(LoadCredentials, OversizedTokenFileIsRefused) {
    const TempDir dir;
    dir.write("huge", std::string(100 * 1024, 'a'));
    const Config config = config_with_credentials([&](json::object& c) {
        c["acme"] = {{"token_file", (dir.path() / "huge").string()}};
    });
    const CredentialResult result = load_credentials(config);
    ASSERT_THAT(result.errors, SizeIs(1));
    EXPECT_THAT(result.errors[0].message, HasSubstr("is larger than 65536 bytes"));
}

}  // namespace
}  // namespace giosg
