// Catalogue drift through the real binary (docs/reference.md "Catalogue drift"): giosg-mock starts
// serving a changed catalogue, the gateway's periodic refresh finds it, and with
// policy.on_widening "hold" only the narrowing part applies; every change is logged, counted in
// /metrics and audited once as a `policy_change` record. With "apply" everything applies.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.hpp"
#include "config/config.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kSettingsKey = "drift-settings-key-4c1f9e";
constexpr const char* kUsersKey = "drift-users-key-8d2a7b";

// Before: what the snapshot file and, at first, giosg list.
constexpr const char* kCatalogueBefore = R"({"next": null, "previous": null, "results": [
  {"url_pattern": "/api/v5/things", "methods": [{"name": "GET", "scopes": []},
     {"name": "POST", "scopes": ["settings"]}, {"name": "DELETE", "scopes": ["settings"]}], "comment": ""},
  {"url_pattern": "/api/v5/reports", "methods": [{"name": "GET", "scopes": ["reports", "users"]}], "comment": ""},
  {"url_pattern": "/api/v5/rooms", "methods": [{"name": "GET", "scopes": ["settings"]}], "comment": ""}
]})";

// After: things GET narrowed to users and DELETE removed (both narrow); reports GET changed to
// another list (intersection: reports); rooms GET emptied; a new endpoint.
constexpr const char* kCatalogueAfter = R"({"next": null, "previous": null, "results": [
  {"url_pattern": "/api/v5/things", "methods": [{"name": "GET", "scopes": ["users"]},
     {"name": "POST", "scopes": ["settings"]}], "comment": ""},
  {"url_pattern": "/api/v5/reports", "methods": [{"name": "GET", "scopes": ["reports", "settings"]}], "comment": ""},
  {"url_pattern": "/api/v5/rooms", "methods": [{"name": "GET", "scopes": []}], "comment": ""},
  {"url_pattern": "/api/v5/secrets", "methods": [{"name": "GET", "scopes": []}], "comment": ""}
]})";

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

std::uint16_t port_in_log(const std::string& log, const std::regex& pattern) {
    std::smatch match;
    return std::regex_search(log, match, pattern) ? static_cast<std::uint16_t>(std::stoi(match[1])) : 0;
}

struct DriftFixture {
    fs::path dir = make_temp_dir("giosg-gw-drift");
    mock::GiosgMock mock;
    std::unique_ptr<ServeProcess> serve;
    std::uint16_t port = 0;
    std::uint16_t admin_port = 0;

    explicit DriftFixture(const std::string& on_widening) : mock(mock_options(dir)) {
        mock.start();
        write_text(dir / "upstream.token", std::string(kUpstreamToken) + "\n");
        const auto client = [](const char* name, const char* key, const char* scope) {
            return "\"" + std::string(name) + "\": {\"key_sha256\": \"" + format_key_digest(sha256(key)) +
                   "\", \"credential\": \"giosg\", \"scopes\": [\"" + scope + "\"], \"organizations\": [\"*\"]}";
        };
        write_text(dir / "gateway.json",
                   "{\n  \"listen\": \"127.0.0.1:0\",\n  \"admin_listen\": \"127.0.0.1:0\",\n  \"workers\": 1,\n"
                   "  \"upstream\": {\"url\": \"" + mock.origin() +
                       "\", \"connect_timeout_ms\": 300, \"timeout_ms\": 3000},\n"
                       "  \"credentials\": {\"giosg\": {\"token_file\": \"upstream.token\"}},\n"
                       "  \"clients\": {" + client("settings", kSettingsKey, "settings") + ", " +
                       client("users", kUsersKey, "users") + "},\n"
                       "  \"policy\": {\"source\": \"upstream\", \"file\": \"snapshot.json\", \"credential\": \"giosg\", "
                       "\"refresh_s\": 1, \"on_widening\": \"" + on_widening + "\"},\n"
                       "  \"audit\": {\"path\": \"audit.jsonl\"}\n}\n");
        serve = std::make_unique<ServeProcess>(dir / "gateway.json", dir);
        const std::regex main_port(R"(giosg-gateway \S+ listening on 127\.0\.0\.1:(\d+))");
        const std::regex admin(R"(admin listening on 127\.0\.0\.1:(\d+))");
        wait_until([&] { return port_in_log(serve->stderr_text(), main_port) != 0; }, 10s);
        port = port_in_log(serve->stderr_text(), main_port);
        admin_port = port_in_log(serve->stderr_text(), admin);
    }
    ~DriftFixture() {
        serve.reset();
        mock.stop();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    static mock::MockOptions mock_options(const fs::path& dir) {
        write_text(dir / "snapshot.json", kCatalogueBefore);
        write_text(dir / "live-before.json", kCatalogueBefore);
        write_text(dir / "live-after.json", kCatalogueAfter);
        mock::MockOptions o;
        o.catalogue_file = dir / "live-before.json";
        o.expected_token = kUpstreamToken;
        return o;
    }

    int status(const char* key, std::string_view method, std::string_view target) const {
        return request(port, method, target, {{"Authorization", std::string("Bearer ") + key}}).status;
    }

    std::vector<json::object> policy_changes() const {
        std::vector<json::object> out;
        const std::string text = read_text(dir / "audit.jsonl");
        std::size_t at = 0;
        while (at < text.size()) {
            const auto end = text.find('\n', at);
            if (end == std::string::npos) break;
            auto record = json::parse(std::string_view(text).substr(at, end - at)).as_object();
            if (record.contains("kind") && record.at("kind") == "policy_change") out.push_back(std::move(record));
            at = end + 1;
        }
        return out;
    }

    std::string metrics() const { return request(admin_port, "GET", "/metrics").body; }
};

const json::object* find_change(const std::vector<json::object>& records, std::string_view change,
                                std::string_view pattern, std::string_view method) {
    for (const auto& r : records)
        if (str(r.at("change")) == change && str(r.at("pattern")) == pattern && str(r.at("method")) == method)
            return &r;
    return nullptr;
}

bool has_metric(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(CatalogueDrift, HoldAppliesWhatNarrowsHoldsWhatWidensAndReportsEachOnce) {
    DriftFixture f("hold");
    ASSERT_NE(f.port, 0) << f.serve->stderr_text();
    ASSERT_NE(f.admin_port, 0) << f.serve->stderr_text();
    // Before the change: the snapshot's table.
    EXPECT_EQ(f.status(kUsersKey, "GET", "/api/v5/reports"), 200);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/things"), 200);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/secrets"), 404);

    f.mock.set_catalogue_file(f.dir / "live-after.json");
    ASSERT_TRUE(wait_until([&] { return f.policy_changes().size() >= 5; }, 5s))
        << f.serve->stderr_text() << read_text(f.dir / "audit.jsonl");
    // The table is published right after the records are queued.
    ASSERT_TRUE(wait_until([&] { return f.status(kUsersKey, "GET", "/api/v5/reports") == 403; }, 3s));

    // Narrowing applied at once.
    EXPECT_EQ(f.status(kSettingsKey, "DELETE", "/api/v5/things"), 405);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/things"), 403);
    EXPECT_EQ(f.status(kUsersKey, "GET", "/api/v5/things"), 200);
    // Widening held: the new endpoint stays unknown, the emptied method keeps its scopes, the
    // changed list is the intersection (reports: neither client).
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/secrets"), 404);
    EXPECT_EQ(f.status(kUsersKey, "GET", "/api/v5/rooms"), 403);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/rooms"), 200);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/reports"), 403);

    const auto records = f.policy_changes();
    ASSERT_EQ(records.size(), 5u) << read_text(f.dir / "audit.jsonl");
    const auto* removed = find_change(records, "-", "/api/v5/things", "DELETE");
    ASSERT_NE(removed, nullptr);
    EXPECT_TRUE(removed->at("scopes").is_null());
    EXPECT_EQ(removed->at("applied"), true);
    const auto* narrowed = find_change(records, "~", "/api/v5/things", "GET");
    ASSERT_NE(narrowed, nullptr);
    EXPECT_EQ(narrowed->at("scopes"), json::array({"users"}));
    EXPECT_EQ(narrowed->at("previous_scopes"), json::array());
    EXPECT_EQ(narrowed->at("applied"), true);
    const auto* changed = find_change(records, "~", "/api/v5/reports", "GET");
    ASSERT_NE(changed, nullptr);
    EXPECT_EQ(changed->at("scopes"), json::array({"reports", "settings"}));
    EXPECT_EQ(changed->at("previous_scopes"), json::array({"reports", "users"}));
    EXPECT_EQ(changed->at("applied"), false);
    const auto* emptied = find_change(records, "~", "/api/v5/rooms", "GET");
    ASSERT_NE(emptied, nullptr);
    EXPECT_EQ(emptied->at("scopes"), json::array());
    EXPECT_EQ(emptied->at("applied"), false);
    const auto* added = find_change(records, "+", "/api/v5/secrets", "GET");
    ASSERT_NE(added, nullptr);
    EXPECT_EQ(added->at("scopes"), json::array());
    EXPECT_EQ(added->at("applied"), false);
    EXPECT_FALSE(added->contains("previous_scopes"));

    const std::string metrics = f.metrics();
    EXPECT_TRUE(has_metric(metrics, R"(giosg_gateway_policy_changes_total{change="+",applied="false"} 1)")) << metrics;
    EXPECT_TRUE(has_metric(metrics, R"(giosg_gateway_policy_changes_total{change="-",applied="true"} 1)")) << metrics;
    EXPECT_TRUE(has_metric(metrics, R"(giosg_gateway_policy_changes_total{change="~",applied="true"} 1)")) << metrics;
    EXPECT_TRUE(has_metric(metrics, R"(giosg_gateway_policy_changes_total{change="~",applied="false"} 2)")) << metrics;
    EXPECT_TRUE(has_metric(metrics, "giosg_gateway_policy_changes_held 3")) << metrics;
    const std::string log = f.serve->stderr_text();
    EXPECT_NE(log.find("policy change held: + /api/v5/secrets GET [] (held)"), std::string::npos) << log;
    EXPECT_NE(log.find("policy change applied: - /api/v5/things DELETE [settings]"), std::string::npos) << log;

    // Later refreshes find the same held changes and record nothing again.
    const auto refreshes = [&] {
        const std::string text = f.serve->stderr_text();
        std::size_t n = 0;
        for (auto at = text.find("policy refreshed"); at != std::string::npos; at = text.find("policy refreshed", at + 1)) ++n;
        return n;
    };
    const auto seen = refreshes();
    ASSERT_TRUE(wait_until([&] { return refreshes() >= seen + 2; }, 5s)) << f.serve->stderr_text();
    EXPECT_EQ(f.policy_changes().size(), 5u) << read_text(f.dir / "audit.jsonl");
    EXPECT_TRUE(has_metric(f.metrics(), "giosg_gateway_policy_changes_held 3"));
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/secrets"), 404);

    // A restart does not adopt them either: `check` compares the snapshot with the live catalogue.
    const auto check = run_gateway(f.dir, {"check", "--config", (f.dir / "gateway.json").string()}, 20s);
    EXPECT_EQ(check.exit_code, 0) << check.err;
    EXPECT_NE(check.out.find("policy changes held: 3"), std::string::npos) << check.out;
    EXPECT_NE(check.out.find("+ /api/v5/secrets GET [] (held)"), std::string::npos) << check.out;
    const auto explain = run_gateway(
        f.dir, {"explain", "--config", (f.dir / "gateway.json").string(), "--client", "settings", "GET", "/api/v5/secrets"},
        20s);
    EXPECT_EQ(explain.exit_code, 0) << explain.err;
    const auto answer = json::parse(explain.out).as_object();
    EXPECT_EQ(str(answer.at("code")), "unknown_endpoint");
    EXPECT_EQ(answer.at("held_changes").as_array().size(), 3u) << explain.out;

    // The trail with its policy_change records verifies, by the binary and by the independent tool.
    ASSERT_EQ(f.serve->signal_and_wait(SIGTERM, 10s), std::optional<int>(0)) << f.serve->stderr_text();
    const auto verify = run_gateway(f.dir, {"audit", "verify", (f.dir / "audit.jsonl").string()}, 20s);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    const std::string tool = "python3 " + shell_quote(std::string(GIOSG_SOURCE_DIR) + "/tests/tools/verify_audit.py") +
                             " " + shell_quote((f.dir / "audit.jsonl").string()) + " >/dev/null";
    EXPECT_EQ(std::system(tool.c_str()), 0) << "tests/tools/verify_audit.py refused the trail";

    // Accepting the changes: the snapshot updated to the live catalogue holds nothing.
    write_text(f.dir / "snapshot.json", kCatalogueAfter);
    const auto accepted = run_gateway(f.dir, {"check", "--config", (f.dir / "gateway.json").string()}, 20s);
    EXPECT_NE(accepted.out.find("policy changes held: 0"), std::string::npos) << accepted.out;
}

TEST(CatalogueDrift, ApplyAdoptsEveryChangeAndReportsIt) {
    DriftFixture f("apply");
    ASSERT_NE(f.port, 0) << f.serve->stderr_text();
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/secrets"), 404);
    f.mock.set_catalogue_file(f.dir / "live-after.json");
    ASSERT_TRUE(wait_until([&] { return f.status(kSettingsKey, "GET", "/api/v5/secrets") == 200; }, 5s))
        << f.serve->stderr_text();
    EXPECT_EQ(f.status(kUsersKey, "GET", "/api/v5/rooms"), 200);
    EXPECT_EQ(f.status(kSettingsKey, "GET", "/api/v5/reports"), 200);
    ASSERT_TRUE(wait_until([&] { return f.policy_changes().size() >= 5; }, 3s));
    const auto records = f.policy_changes();
    EXPECT_EQ(records.size(), 5u);
    for (const auto& r : records) EXPECT_EQ(r.at("applied"), true) << json::serialize(r);
    const std::string metrics = f.metrics();
    EXPECT_TRUE(has_metric(metrics, R"(giosg_gateway_policy_changes_total{change="+",applied="true"} 1)")) << metrics;
    EXPECT_TRUE(has_metric(metrics, "giosg_gateway_policy_changes_held 0")) << metrics;
}

// deploy/monitoring/grafana-dashboard.json: every query names a metric that a running gateway's
// /metrics exports (this fixture is the real binary with an admin listener).
TEST(MonitoringKit, DashboardQueriesNameExportedMetrics) {
    DriftFixture f("apply");
    ASSERT_NE(f.admin_port, 0) << f.serve->stderr_text();
    EXPECT_EQ(f.status(kUsersKey, "GET", "/api/v5/reports"), 200);  // histograms and labels get samples
    // The exchange is counted once its response has left (the record stage), which may be just
    // after the client has it: wait for the count rather than race it.
    std::string exported = f.metrics();
    for (int i = 0; i < 200 && !has_metric(exported, R"(giosg_gateway_upstream_responses_total{class="2xx"} 1)"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        exported = f.metrics();
    }
    // giosg's own status classes (the alert on upstream 5xx needs them).
    EXPECT_TRUE(has_metric(exported, R"(giosg_gateway_upstream_responses_total{class="2xx"} 1)")) << exported;
    EXPECT_TRUE(has_metric(exported, R"(giosg_gateway_upstream_responses_total{class="5xx"} 0)")) << exported;
    const auto dashboard =
        json::parse(read_text(fs::path(GIOSG_SOURCE_DIR) / "deploy/monitoring/grafana-dashboard.json")).as_object();
    const std::regex metric_name(R"(giosg_gateway_[a-z0-9_]+)");
    std::size_t queries = 0;
    for (const auto& panel : dashboard.at("panels").as_array()) {
        for (const auto& target : panel.at("targets").as_array()) {
            const std::string expr = str(target.at("expr"));
            ++queries;
            std::size_t names = 0;
            for (std::sregex_iterator it(expr.begin(), expr.end(), metric_name), end; it != end; ++it, ++names) {
                std::string name = it->str();
                const bool typed = exported.find("# TYPE " + name + " ") != std::string::npos;
                if (!typed) {
                    // A histogram's series: NAME_bucket, NAME_sum, NAME_count under "# TYPE NAME histogram".
                    for (const char* suffix : {"_bucket", "_sum", "_count"})
                        if (name.size() > std::strlen(suffix) && name.ends_with(suffix)) {
                            name.resize(name.size() - std::strlen(suffix));
                            break;
                        }
                    EXPECT_NE(exported.find("# TYPE " + name + " histogram"), std::string::npos)
                        << str(panel.at("title")) << ": " << it->str() << " is not exported";
                }
            }
            EXPECT_GT(names, 0u) << str(panel.at("title")) << ": a query without a gateway metric: " << expr;
        }
    }
    EXPECT_GE(queries, 10u);
}

}  // namespace
}  // namespace giosg::testing
