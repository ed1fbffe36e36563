// The real `giosg-gateway` binary (docs/reference.md §1), run as a child process with stdout, stderr and
// the exit status captured separately; live-upstream cases talk to an in-process giosg-mock.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <signal.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/sha256.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

// A JSON value as text, for readable assertion messages (strings unquoted).
std::string str(const boost::json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}


using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

const std::string kCatalogue = std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json";
constexpr const char* kBillingKey = "billing-key-5e1f0a";
const std::string kOwnedChats = std::string("/api/v5/orgs/") + kOrg + "/owned_chats";
const std::string kOwnedChatsPattern = "/api/v5/orgs/<organization_id>/owned_chats";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has_line(const std::string& text, const std::string& expected) {
    for (const auto& line : lines_of(text))
        if (line == expected) return true;
    return false;
}

bool has_line_starting(const std::string& text, const std::string& prefix) {
    for (const auto& line : lines_of(text))
        if (line.rfind(prefix, 0) == 0) return true;
    return false;
}

std::unique_ptr<mock::GiosgMock> start_mock(std::size_t page_size) {
    mock::MockOptions mo;
    mo.catalogue_file = kCatalogue;
    mo.page_size = page_size;
    mo.expected_token = kUpstreamToken;
    auto m = std::make_unique<mock::GiosgMock>(mo);
    m->start();
    return m;
}

std::uint16_t closed_port() {
    // A port the kernel just handed out and that nobody listens on any more.
    auto m = start_mock(25);
    const auto port = m->port();
    m->stop();
    return port;
}

class Cli : public ::testing::Test {
protected:
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    const fs::path& dir() const { return dir_; }

    /// Runs the binary with `args` (stdin from `input`), bounded by 30 s.
    RunResult run(const std::vector<std::string>& args, const std::string& input = {}) {
        write_text(dir_ / "stdin.txt", input);
        return run_gateway(dir_, args, 30s, "stdin.txt");
    }

    /// Writes gateway.json (and the token file) into the test folder; returns its path.
    fs::path write_config(const std::string& upstream_url, const std::string& policy_json,
                          const std::string& scopes_json = R"(["reports"])", const std::string& extra = {}) {
        write_text(dir_ / "giosg.token", std::string(kUpstreamToken) + "\n");
        const fs::path file = dir_ / "gateway.json";
        write_text(file, std::string("// CLI test config\n{\n") + extra +
                             "  \"listen\": \"127.0.0.1:0\",\n"
                             "  \"workers\": 1,\n"
                             "  \"upstream\": {\"url\": \"" + upstream_url +
                             "\", \"connect_timeout_ms\": 300, \"timeout_ms\": 2000},\n"
                             "  \"credentials\": {\"acme\": {\"token_file\": \"giosg.token\"}},\n"
                             "  \"clients\": {\"billing\": {\"key_sha256\": \"" +
                             format_key_digest(sha256(kBillingKey)) + "\", \"credential\": \"acme\", \"scopes\": " +
                             scopes_json + ", \"organizations\": [\"" + kOrg + "\"]}},\n" +
                             "  \"policy\": " + policy_json + ",\n" +
                             "  \"audit\": {\"path\": \"audit.jsonl\"},\n}\n");
        return file;
    }

    /// A config whose policy comes from the bundled snapshot only.
    fs::path write_file_policy_config(const std::string& scopes_json = R"(["reports"])", const std::string& extra = {}) {
        return write_config("http://127.0.0.1:" + std::to_string(closed_port()), file_policy(), scopes_json, extra);
    }

    static std::string file_policy() {
        return R"({"source": "file", "file": ")" + kCatalogue + R"(", "credential": "acme", "refresh_s": 0})";
    }
    static std::string live_policy(bool with_snapshot) {
        return R"({"source": "upstream", )" + (with_snapshot ? R"("file": ")" + kCatalogue + "\", " : std::string()) +
               R"("credential": "acme", "refresh_s": 0})";
    }

    /// The explain JSON: stdout must be exactly one object.
    static json::object explain_json(const RunResult& r) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(lines_of(r.out).size(), 1u) << r.out;
        return json::parse(r.out).as_object();
    }

private:
    fs::path dir_ = make_temp_dir("giosg-gw-cli");
};

// --- usage -------------------------------------------------------------------------------------

TEST_F(Cli, VersionPrintsVersionAndExitsZero) {
    const auto r = run({"--version"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^giosg-gateway \d+\.\d+)"))) << r.out;
    EXPECT_EQ(lines_of(r.out).size(), 1u);
}

// The binary says which allocator it runs on (jemalloc gives an idle burst's memory back; a
// build without it, or a sanitizer build, runs on glibc's malloc) and what its workers wait on
// (epoll, or io_uring in a GIOSG_IO_URING build), each the one it was built with.
TEST_F(Cli, VersionNamesTheAllocatorAndIoBackendTheBinaryWasBuiltWith) {
    const auto r = run({"--version"});
    EXPECT_NE(r.out.find(std::string("(") + GIOSG_GATEWAY_ALLOCATOR), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string(", ") + GIOSG_GATEWAY_IO_BACKEND + ")\n"), std::string::npos) << r.out;
}

TEST_F(Cli, HelpMentionsEveryCommandAndExitsZero) {
    const auto r = run({"--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* command : {"serve", "check", "explain", "policy fetch", "policy diff", "hash-key", "--version"})
        EXPECT_NE(r.out.find(command), std::string::npos) << "help does not mention " << command << ":\n" << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Cli, UnknownCommandExitsTwoWithUsageOnStderr) {
    const auto r = run({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(Cli, UnknownFlagExitsTwoWithUsageOnStderr) {
    const auto config = write_file_policy_config();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"check", "--config", config.string(), "--frobnicate"},
          std::vector<std::string>{"--frobnicate"}, std::vector<std::string>{"hash-key", "--verbose"}}) {
        const auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args.back();
        EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST_F(Cli, HelpAndVersionTakeNoArguments) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--version", "--bogus"},
                                                 std::vector<std::string>{"--help", "extra"}}) {
        const auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1];
        EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST_F(Cli, HelpAfterACommandShowsUsageAndExitsZero) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"check", "--help"}, std::vector<std::string>{"explain", "-h"},
          std::vector<std::string>{"policy", "diff", "--help"}, std::vector<std::string>{"audit", "verify", "--help"}}) {
        const auto r = run(args);
        EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    }
    // As an option's value it is a value: a config file named "--help" that does not exist.
    const auto r = run({"check", "--config", "--help"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    // After an unknown command it does not hide the error.
    const auto unknown = run({"frobnicate", "--help"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("Usage"), std::string::npos) << unknown.err;
    EXPECT_TRUE(unknown.out.empty()) << unknown.out;
}

TEST_F(Cli, AuditUsageErrorsShowUsageButUnreadableFilesDoNot) {
    const auto unknown = run({"audit", "frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("audit: unknown subcommand frobnicate"), std::string::npos) << unknown.err;
    EXPECT_NE(unknown.err.find("Usage"), std::string::npos) << unknown.err;
    const auto missing = run({"audit", "verify", (dir() / "missing.jsonl").string()});
    EXPECT_EQ(missing.exit_code, 2);  // unreadable
    EXPECT_NE(missing.err.find("missing.jsonl"), std::string::npos) << missing.err;
    EXPECT_EQ(missing.err.find("Usage"), std::string::npos) << missing.err;
}

// --- hash-key ----------------------------------------------------------------------------------

TEST_F(Cli, HashKeyPrintsSha256OfKeyWithoutTrailingNewline) {
    const auto r = run({"hash-key"}, "secret\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string expected = format_key_digest(sha256("secret"));
    ASSERT_EQ(expected.rfind("sha256:", 0), 0u);
    EXPECT_EQ(expected.size(), 7u + 64u);
    EXPECT_EQ(r.out, expected + "\n");
    EXPECT_EQ(run({"hash-key"}, "secret").out, expected + "\n");
}

TEST_F(Cli, HashKeyStripsExactlyOneTrailingNewline) {
    const auto r = run({"hash-key"}, "secret\n\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, format_key_digest(sha256("secret\n")) + "\n");
}

// --- check -------------------------------------------------------------------------------------

TEST_F(Cli, CheckValidConfigExitsZeroWithSummary) {
    const auto r = run({"check", "--config", write_file_policy_config().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("106"), std::string::npos) << "summary lacks the endpoint count:\n" << r.out;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST_F(Cli, CheckSummarisesTheRateLimitsWithoutTheRedisPassword) {
    EXPECT_NE(run({"check", "--config", write_file_policy_config().string()})
                  .out.find("rate limits: 0 client rates, 0 in-flight caps, 0 credential budgets; store local\n"),
              std::string::npos);
    const auto r = run({"check", "--config",
                        write_file_policy_config(R"(["reports"])", R"(  "rate_limits": {"store": "redis",
                            "redis_url": "redis://:hunter2-secret@127.0.0.1:6390/3", "on_store_failure": "deny"},
)").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("store redis 127.0.0.1:6390/3, timeout 50 ms, on_store_failure deny\n"), std::string::npos)
        << r.out;
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos);
}

TEST_F(Cli, CheckWithLiveUpstreamFetchesTheCatalogue) {
    auto m = start_mock(10);
    const auto r = run({"check", "--config", write_config(m->origin(), live_policy(false)).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("106"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("upstream"), std::string::npos) << r.out;
    EXPECT_GE(m->request_count(), 11u);
}

TEST_F(Cli, CheckUnknownScopeExitsOneNamingItsPath) {
    const auto r = run({"check", "--config", write_file_policy_config(R"(["report"])").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has_line(r.out + r.err, R"(/clients/billing/scopes/0: unknown scope "report")"))
        << "stdout:\n" << r.out << "stderr:\n" << r.err;
}

TEST_F(Cli, CheckUnknownKeyExitsOneNamingItsPath) {
    const auto r = run({"check", "--config", write_file_policy_config(R"(["reports"])", "  \"colour\": \"blue\",\n").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has_line_starting(r.out + r.err, "/colour")) << "stdout:\n" << r.out << "stderr:\n" << r.err;
}

TEST_F(Cli, CheckUnknownNestedKeyExitsOneNamingItsPath) {
    const fs::path config = write_file_policy_config();
    std::string text = read_text(config);
    const std::string upstream = "\"upstream\": {";
    text.replace(text.find(upstream), upstream.size(), upstream + "\"timeout_msec\": 5, ");
    write_text(config, text);
    const auto r = run({"check", "--config", config.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has_line_starting(r.out + r.err, "/upstream/timeout_msec")) << r.out << r.err;
}

// `check` refuses the audit paths `serve` would refuse, naming /audit/path; both exit 1.
TEST_F(Cli, CheckAndServeRefuseAnUnusableAuditPath) {
    const fs::path config = write_file_policy_config();
    const fs::path audit = config.parent_path() / "audit.jsonl";
    const auto expect_refused = [&](std::string_view problem) {
        for (const char* command : {"check", "serve"}) {
            const auto r = run({command, "--config", config.string()});
            EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out << r.err;
            EXPECT_TRUE(has_line(r.err, "/audit/path: " + audit.string() + std::string(problem)))
                << command << ":\n" << r.err;
        }
    };
    fs::create_directory(audit);
    expect_refused(" is a directory");
    fs::remove(audit);
    write_text(audit, "written by someone else\n");
    expect_refused(
        " does not end with a chained record (written by another program or an older version); move it away to "
        "start a new chain");
    fs::remove(audit);
    EXPECT_EQ(run({"check", "--config", config.string()}).exit_code, 0);  // a new file is fine
    EXPECT_FALSE(fs::exists(audit));                                       // and check did not create it
}

// A listener that cannot bind stops serve with exit 1 and a line naming the setting.
TEST_F(Cli, ServeNamesTheSettingWhoseAddressIsTaken) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));  // no SO_REUSEPORT
    const std::string port = std::to_string(taken.local_endpoint().port());
    const auto config = write_file_policy_config(R"(["reports"])", "  \"admin_listen\": \"127.0.0.1:" + port + "\",\n");
    const auto r = run({"serve", "--config", config.string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("/admin_listen: cannot listen on 127.0.0.1:" + port + ": "), std::string::npos) << r.err;
}

TEST_F(Cli, CheckWithUnreachableUpstreamAndSnapshotWarnsAndExitsZero) {
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
    const auto r = run({"check", "--config", write_config(url, live_policy(true)).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("106"), std::string::npos) << r.out;
}

TEST_F(Cli, CheckWithUnreachableUpstreamAndNoSnapshotExitsOne) {
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
    const auto r = run({"check", "--config", write_config(url, live_policy(false)).string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has_line_starting(r.out + r.err, "/policy/")) << r.out << r.err;
}

// --- explain -----------------------------------------------------------------------------------

TEST_F(Cli, ExplainAllowedRequestPrintsOneJsonDecision) {
    const auto config = write_file_policy_config();
    const auto r = run({"explain", "--config", config.string(), "--client", "billing", "GET", kOwnedChats});
    const auto d = explain_json(r);
    EXPECT_EQ(d.at("status").as_int64(), 200);
    EXPECT_EQ(str(d.at("code")), "ok");
    EXPECT_EQ(str(d.at("pattern")), kOwnedChatsPattern);
    EXPECT_EQ(d.at("required_scopes"), json::parse(R"(["reports"])"));
    EXPECT_EQ(d.at("allow"), json::parse(R"(["GET", "HEAD", "OPTIONS"])"));
}

TEST_F(Cli, ExplainMethodNotInCatalogueGets405WithAllow) {
    const auto config = write_file_policy_config();
    const auto r = run({"explain", "--config", config.string(), "--client", "billing", "PATCH", kOwnedChats});
    const auto d = explain_json(r);
    EXPECT_EQ(d.at("status").as_int64(), 405);
    EXPECT_EQ(str(d.at("code")), "method_not_allowed");
    EXPECT_EQ(str(d.at("pattern")), kOwnedChatsPattern);
    EXPECT_EQ(d.at("allow"), json::parse(R"(["GET", "HEAD", "OPTIONS"])"));
}

// A method that is not an HTTP token never reaches the policy: serve answers its request 400.
TEST_F(Cli, ExplainMethodThatIsNotATokenGets400) {
    const auto config = write_file_policy_config();
    const std::string too_long(33, 'G');  // serve: "method too long"
    for (const std::string& method : {std::string("G@T"), std::string("G T"), std::string(), too_long}) {
        const auto r = run({"explain", "--config", config.string(), "--client", "billing", method, kOwnedChats});
        const auto d = explain_json(r);
        EXPECT_EQ(d.at("status").as_int64(), 400) << method;
        EXPECT_EQ(str(d.at("code")), "bad_request") << method;
        EXPECT_TRUE(d.at("pattern").is_null()) << method;
    }
}

TEST_F(Cli, ExplainUnknownPathGets404WithNullPatternAndAllow) {
    const auto config = write_file_policy_config();
    const auto r = run({"explain", "--config", config.string(), "--client", "billing", "GET", "/api/v5/no_such_thing"});
    const auto d = explain_json(r);
    EXPECT_EQ(d.at("status").as_int64(), 404);
    EXPECT_EQ(str(d.at("code")), "unknown_endpoint");
    EXPECT_TRUE(d.at("pattern").is_null());
    EXPECT_TRUE(d.at("allow").is_null());
}

TEST_F(Cli, ExplainOtherOrganizationGets403) {
    const auto config = write_file_policy_config();
    const auto r = run({"explain", "--config", config.string(), "--client", "billing", "GET",
                        std::string("/api/v5/orgs/") + kOtherOrg + "/owned_chats"});
    const auto d = explain_json(r);
    EXPECT_EQ(d.at("status").as_int64(), 403);
    EXPECT_EQ(str(d.at("code")), "organization_forbidden");
}

TEST_F(Cli, ExplainUnknownClientExitsOne) {
    const auto config = write_file_policy_config();
    const auto r = run({"explain", "--config", config.string(), "--client", "nobody", "GET", kOwnedChats});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("nobody"), std::string::npos) << r.err;
}

// --- policy diff -------------------------------------------------------------------------------

TEST_F(Cli, PolicyDiffIdenticalFilesExitsZeroWithoutOutput) {
    const fs::path copy = dir() / "copy.json";
    fs::copy_file(kCatalogue, copy);
    const auto r = run({"policy", "diff", kCatalogue, copy.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(Cli, PolicyDiffChangedFilesListsEachDifference) {
    auto catalogue = json::parse(read_text(kCatalogue));
    auto& results = catalogue.as_object().at("results").as_array();
    bool found = false;
    for (auto& entry : results) {
        auto& e = entry.as_object();
        if (str(e.at("url_pattern")) != kOwnedChatsPattern) continue;
        found = true;
        auto& methods = e.at("methods").as_array();
        json::array kept;
        for (auto& m : methods) {
            auto& method = m.as_object();
            if (str(method.at("name")) == "OPTIONS") continue;  // removed
            if (str(method.at("name")) == "GET") method["scopes"] = json::array{"settings"};  // changed
            kept.push_back(m);
        }
        e["methods"] = kept;
    }
    ASSERT_TRUE(found);
    results.push_back(json::parse(R"({"url_pattern": "/api/v5/added_for_test", "methods": [{"name": "GET", "scopes": []}], "comment": ""})"));
    const fs::path changed = dir() / "changed.json";
    write_text(changed, json::serialize(catalogue));

    const auto r = run({"policy", "diff", kCatalogue, changed.string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines_of(r.out).size(), 3u) << r.out;
    EXPECT_TRUE(has_line(r.out, "- " + kOwnedChatsPattern + " OPTIONS [reports]")) << r.out;
    EXPECT_TRUE(has_line(r.out, "~ " + kOwnedChatsPattern + " GET [reports] -> [settings]")) << r.out;
    EXPECT_TRUE(has_line(r.out, "+ /api/v5/added_for_test GET []")) << r.out;
}

TEST_F(Cli, PolicyDiffUnreadableFileExitsTwo) {
    const auto r = run({"policy", "diff", kCatalogue, (dir() / "missing.json").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;

    write_text(dir() / "garbage.json", "not a catalogue");
    EXPECT_EQ(run({"policy", "diff", (dir() / "garbage.json").string(), kCatalogue}).exit_code, 2);
}

// --- policy fetch ------------------------------------------------------------------------------

TEST_F(Cli, PolicyFetchWritesEveryPageToOutFile) {
    auto m = start_mock(10);
    const auto config = write_config(m->origin(), live_policy(false));
    const fs::path out = dir() / "fetched.json";
    const auto r = run({"policy", "fetch", "--config", config.string(), "--out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_TRUE(fs::exists(out));
    const auto fetched = json::parse(read_text(out)).as_object();
    EXPECT_TRUE(fetched.at("next").is_null());
    EXPECT_EQ(fetched.at("results").as_array().size(), 106u);
    EXPECT_EQ(m->request_count(), 11u);
    for (const auto& request : m->received())
        EXPECT_EQ(request.header("Authorization").value_or(""), std::string("Token ") + kUpstreamToken);

    // What was fetched is the same catalogue as the bundled snapshot.
    EXPECT_EQ(run({"policy", "diff", kCatalogue, out.string()}).exit_code, 0);
}

TEST_F(Cli, PolicyFetchWithoutOutPrintsCatalogueOnStdout) {
    auto m = start_mock(25);
    const auto r = run({"policy", "fetch", "--config", write_config(m->origin(), live_policy(false)).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto fetched = json::parse(r.out).as_object();
    EXPECT_EQ(fetched.at("results").as_array().size(), 106u);
}

TEST_F(Cli, PolicyFetchFromFailingUpstreamExitsOne) {
    auto m = start_mock(25);
    m->set_endpoints_failure(true);
    const fs::path out = dir() / "fetched.json";
    const auto r = run({"policy", "fetch", "--config", write_config(m->origin(), live_policy(false)).string(), "--out",
                        out.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(r.err.find(kUpstreamToken), std::string::npos) << "the token leaked into an error message";
}

// --- serve -------------------------------------------------------------------------------------

TEST_F(Cli, ServeAnswersAndStopsCleanlyOnSigterm) {
    auto m = start_mock(25);
    const auto config = write_config(m->origin(), live_policy(false));
    ServeProcess serve(config, dir());
    const auto port = serve.wait_for_port(10s);
    ASSERT_NE(port, 0) << serve.stderr_text();

    const auto r = request(port, "GET", kOwnedChats,
                           {{"Authorization", std::string("Bearer ") + kBillingKey}, {"X-Request-Id", "cli-serve-1"}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("X-Request-Id").value_or(""), "cli-serve-1");

    const auto exit_code = serve.signal_and_wait(SIGTERM, 5s);
    ASSERT_TRUE(exit_code.has_value()) << "serve did not exit within 5 s of SIGTERM";
    EXPECT_EQ(*exit_code, 0) << serve.stderr_text();

    bool found = false;
    for (const auto& line : lines_of(read_text(dir() / "audit.jsonl"))) {
        if (line.empty()) continue;
        const auto record = json::parse(line).as_object();
        if (record.contains("request_id") && record.at("request_id").is_string() &&
            str(record.at("request_id")) == "cli-serve-1") {
            found = true;
            EXPECT_EQ(str(record.at("client")), "billing");
            EXPECT_EQ(record.at("status").as_int64(), 200);
            EXPECT_EQ(str(record.at("decision")), "allow");
        }
    }
    EXPECT_TRUE(found) << "no audit record for the request:\n" << read_text(dir() / "audit.jsonl");
    EXPECT_EQ(serve.stderr_text().find(kUpstreamToken), std::string::npos) << "the token leaked into the log";
}

TEST_F(Cli, ServeRefusesToStartWithInvalidConfig) {
    ServeProcess serve(write_file_policy_config(R"(["report"])"), dir());
    const auto exit_code = serve.signal_and_wait(0, 10s);  // signal 0: only wait
    ASSERT_TRUE(exit_code.has_value()) << "serve kept running with an invalid config";
    EXPECT_EQ(*exit_code, 1);
    EXPECT_TRUE(has_line(serve.stderr_text(), R"(/clients/billing/scopes/0: unknown scope "report")"))
        << serve.stderr_text();
}

}  // namespace
}  // namespace giosg::testing
