// docs/reference.md §6: responses keep clients on the gateway. A giosg-style client follows the
// absolute `next` links of a paged list; through the gateway every link it gets points back at
// the gateway, so its internal key never travels to giosg, and every page is audited.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "harness.hpp"
#include "admin/metrics.hpp"
#include "relay/gzip.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

HarnessOptions file_policy() {
    HarnessOptions o;
    o.policy_source = "file";
    return o;
}

std::string teams_path() { return std::string("/api/v5/orgs/") + kOrg + "/teams"; }

std::pair<std::string, std::string> header(std::string name, std::string value) { return {std::move(name), std::move(value)}; }

// One GET over a fresh connection with the Host the client believes it talks to.
Response get(std::uint16_t port, const std::string& target, const std::string& host, bool gzip) {
    RawConnection c(port);
    std::string raw = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Token " + kKeyFull +
                      "\r\nConnection: close\r\n";
    if (gzip) raw += "Accept-Encoding: gzip\r\n";
    raw += "\r\n";
    c.send(raw);
    auto r = c.read_response(5s);
    EXPECT_TRUE(r.has_value());
    return r.value_or(Response{});
}

std::string inflate(const std::string& body) {
    relay::GzipInflater inflater(1u << 24);
    std::string out;
    EXPECT_EQ(inflater.feed(body, out), relay::InflateStatus::ok);
    EXPECT_EQ(inflater.finish(), relay::InflateStatus::ok);
    return out;
}

// Follows `next` from the first page like an SDK does: the link must be on `origin`; returns
// the teams collected and the pages walked.
std::pair<std::set<std::string>, int> walk(std::uint16_t port, const std::string& host, const std::string& origin,
                                           bool gzip) {
    std::set<std::string> teams;
    int pages = 0;
    std::string target = teams_path();
    for (;;) {
        const auto r = get(port, target, host, gzip);
        EXPECT_EQ(r.status, 200) << r.body;
        if (r.status != 200) break;
        ++pages;
        EXPECT_EQ(r.header("Content-Encoding").has_value(), gzip);
        EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
        const auto page = json::parse(gzip ? inflate(r.body) : r.body).as_object();
        for (const auto& team : page.at("results").as_array()) teams.insert(json::serialize(team));
        // Every page has a next or a previous link to rewrite.
        EXPECT_FALSE(r.header("ETag").has_value()) << "a rewritten page drops the upstream's ETag";
        const auto& next = page.at("next");
        if (next.is_null()) break;
        const std::string link(next.as_string());
        EXPECT_EQ(link.rfind(origin + "/", 0), 0u) << link;
        if (link.rfind(origin + "/", 0) != 0) break;
        target = link.substr(origin.size());
        if (pages > 10) break;
    }
    return {teams, pages};
}

void expect_only_the_server_token_upstream(Harness& h, std::size_t requests) {
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), requests);
    for (const auto& request : received)
        EXPECT_EQ(request.header("Authorization"), std::string("Token ") + kUpstreamToken);
}

TEST(ProxyRewrite, PaginationWalkThroughTheHostStaysOnTheGateway) {
    Harness h(file_policy());
    const std::string host = "127.0.0.1:" + std::to_string(h.port());
    const auto [teams, pages] = walk(h.port(), host, "http://" + host, false);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(teams.size(), 6u);
    expect_only_the_server_token_upstream(h, 3);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    for (const auto& record : records) {
        EXPECT_EQ(record.at("path").as_string(), teams_path());
        EXPECT_EQ(record.at("status").as_int64(), 200);
    }
}

TEST(ProxyRewrite, GzipPagesAreRewrittenAndStayGzip) {
    Harness h(file_policy());
    const std::string host = "127.0.0.1:" + std::to_string(h.port());
    const auto [teams, pages] = walk(h.port(), host, "http://" + host, true);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(teams.size(), 6u);
    expect_only_the_server_token_upstream(h, 3);
}

TEST(ProxyRewrite, JsonPageWithoutUpstreamLinksPassesByteForByteWithItsValidators) {
    HarnessOptions o = file_policy();
    o.mock_list_pages = 1;  // one page: next and previous are both null
    Harness h(o);
    const auto r = get(h.port(), teams_path(), "127.0.0.1", false);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("ETag"), "\"teams-page-1\"");
    const auto page = json::parse(r.body).as_object();
    EXPECT_TRUE(page.at("next").is_null());
    EXPECT_TRUE(page.at("previous").is_null());
}

TEST(ProxyRewrite, PublicUrlWinsOverTheHost) {
    HarnessOptions o = file_policy();
    o.top_json = R"("public_url": "https://giosg-gw.corp.example")";
    Harness h(o);
    const auto r = get(h.port(), teams_path(), "127.0.0.1", false);
    ASSERT_EQ(r.status, 200);
    const auto next = json::parse(r.body).at("next").as_string();
    EXPECT_EQ(std::string(next), "https://giosg-gw.corp.example" + teams_path() + "?page=2");
}

TEST(ProxyRewrite, HostThatIsNoHostPortGetsRelativeLinks) {
    Harness h(file_policy());
    const auto r = get(h.port(), teams_path(), "bad host!", false);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(std::string(json::parse(r.body).at("next").as_string()), teams_path() + "?page=2");
}

TEST(ProxyRewrite, LocationOfACreatedTeamPointsAtTheGateway) {
    Harness h(file_policy());
    RawConnection c(h.port());
    const std::string body = R"({"name": "new team"})";
    c.send("POST " + teams_path() + " HTTP/1.1\r\nHost: gw.example:8443\r\nAuthorization: Token " + kKeyFull +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body);
    const auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 201);
    const auto location = r->header("Location").value_or("");
    EXPECT_EQ(location.rfind("http://gw.example:8443" + teams_path() + "/", 0), 0u) << location;
}

TEST(ProxyRewrite, JsonBodyOverTheBoundPassesUnchangedAndIsCounted) {
    HarnessOptions o = file_policy();
    o.limits_json = R"("max_rewrite_bytes": 16)";
    Harness h(o);
    const auto r = get(h.port(), teams_path(), "127.0.0.1", false);
    ASSERT_EQ(r.status, 200);
    const std::string next(json::parse(r.body).at("next").as_string());
    EXPECT_EQ(next.rfind(h.mock().origin(), 0), 0u) << "left as giosg sent it: " << next;
    EXPECT_NE(h.metrics().render().find("giosg_gateway_rewrite_skipped_total{reason=\"too_large\"} 1\n"),
              std::string::npos);
}

TEST(ProxyRewrite, UpstreamBodyShorterThanItsContentLengthIsA502) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/users/me", {auth(kKeyFull), header("X-Mock-Fault", "close-mid-body")});
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(json::parse(r.body).at("code").as_string(), "upstream_unavailable");
}

}  // namespace
}  // namespace giosg::testing
