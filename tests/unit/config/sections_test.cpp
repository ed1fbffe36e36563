// The sections' own rules: credentials, clients (keys, scopes, organizations), policy, audit.
#include "support.hpp"

#include "common/sha256.hpp"

namespace giosg {
namespace {

using namespace config_test;

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

TEST(ParseConfig, PolicyOnWideningIsApplyUnlessHold) {
    EXPECT_EQ(parsed_after([](json::object&) {}).policy.on_widening, PolicyConfig::OnWidening::apply);
    EXPECT_EQ(parsed_after([](json::object& c) { section(c, "policy")["on_widening"] = "hold"; }).policy.on_widening,
              PolicyConfig::OnWidening::hold);
    EXPECT_EQ(parsed_after([](json::object& c) { section(c, "policy")["on_widening"] = "apply"; }).policy.on_widening,
              PolicyConfig::OnWidening::apply);
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "policy")["on_widening"] = "Hold"; }),
                ElementsAre("/policy/on_widening: must be \"apply\" or \"hold\""));
    EXPECT_THAT(errors_after([](json::object& c) { section(c, "policy")["on_widening"] = true; }),
                ElementsAre("/policy/on_widening: must be a string"));
}

// ---- audit -----------------------------------------------------------------------------------

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
    EXPECT_EQ(config.audit.queue_bytes, 64u << 20);
    EXPECT_EQ(config.audit.queue_wait, std::chrono::milliseconds(100));
}

TEST(ParseConfig, AuditQueueKeysAreReadAndBoundedByPath) {
    const Config config = parsed_after([](json::object& c) {
        c["audit"] = {{"queue_bytes", 1048576}, {"queue_wait_ms", 0}};
    });
    EXPECT_EQ(config.audit.queue_bytes, 1048576u);
    EXPECT_EQ(config.audit.queue_wait, std::chrono::milliseconds(0));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["audit"] = {{"queue_bytes", 1000}, {"queue_wait_ms", -1}};
                }),
                UnorderedElementsAre(HasSubstr("/audit/queue_bytes: "), HasSubstr("/audit/queue_wait_ms: ")));
    EXPECT_THAT(errors_after([](json::object& c) { c["audit"] = {{"queue_wait_ms", "fast"}}; }),
                ElementsAre(HasSubstr("/audit/queue_wait_ms: ")));
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

// ---- key digests -----------------------------------------------------------------------------

TEST(ParseKeyDigest, ReadsBackWhatFormatKeyDigestPrints) {
    const KeyDigest digest = sha256("internal-client-key");
    EXPECT_EQ(parse_key_digest(format_key_digest(digest)), digest);
}

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

}  // namespace
}  // namespace giosg
