// load_credentials: tokens from the environment and from token files.
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

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
