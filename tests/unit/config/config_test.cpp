// parse_config and load_config on whole documents: the contract's example, defaults, required
// keys, many errors at once, number ranges, and reading the file.
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

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
         "/clients/billing: needs an identity: key_sha256, keys, jwt_subject, mtls or unix_uid"},
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

}  // namespace
}  // namespace giosg
