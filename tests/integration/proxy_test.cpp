// The request pipeline end to end (docs/reference.md §3 and §4): the real gateway server in front of
// giosg-mock. Every test asserts what the client got (status, JSON error body, headers) and
// what the upstream received (mock.received()), since a refusal that still forwarded, or an
// answer that leaked a key upstream, would look fine from the client's side alone.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "admin/metrics.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kChallenge = R"(Bearer realm="giosg-gateway")";
constexpr std::string_view kUsersMe = "/api/v5/users/me";

std::string rooms_path(std::string_view org = kOrg) { return "/api/v5/orgs/" + std::string(org) + "/rooms"; }
std::string owned_chats_path(std::string_view org = kOrg) {
    return "/api/v5/orgs/" + std::string(org) + "/owned_chats";
}

// The snapshot as policy source: the mock then receives nothing but the requests under test
// (no catalogue fetch), so request_count() and connections_accepted() start at zero.
HarnessOptions file_policy() {
    HarnessOptions options;
    options.policy_source = "file";
    return options;
}

std::pair<std::string, std::string> header(std::string name, std::string value) {
    return {std::move(name), std::move(value)};
}

// One request's bytes, with "Host: gateway.test" first and a Content-Length when there is a body.
std::string raw_request(std::string_view method, std::string_view target, const Headers& headers,
                        std::string_view body = {}) {
    std::string out;
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: gateway.test\r\n");
    for (const auto& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
    if (!body.empty()) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out.append("\r\n").append(body);
    return out;
}

// The value of an unlabelled counter or gauge in Prometheus text; nullopt when it is absent.
std::optional<std::uint64_t> metric_value(const std::string& text, std::string_view name) {
    std::string prefix = "\n";  // appended, not concatenated: GCC 12 -O2 warns falsely (-Wrestrict)
    prefix.append(name).push_back(' ');
    const auto at = ("\n" + text).find(prefix);
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(text.substr(at + prefix.size() - 1));
}

// The rendered metrics once `name` has reached `value` (or after 2 s). A response reaches the
// client before its upstream connection goes back to the pool, so pool counters lag a little.
std::string metrics_once(Harness& h, std::string_view name, std::uint64_t value) {
    std::string metrics;
    for (int i = 0; i < 200; ++i) {
        metrics = h.metrics().render();
        if (metric_value(metrics, name) == value) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return metrics;
}

bool is_new_request_id(std::string_view id) {
    static const std::regex hex32("^[0-9a-fA-F]{32}$");
    return std::regex_match(id.begin(), id.end(), hex32);
}

// "127.0.0.1:PORT" from the mock's "http://127.0.0.1:PORT".
// Asserts a gateway-made error: status, DRF-style JSON body with `code`, a string `detail`,
// and a `request_id` equal to the one X-Request-Id header.
void expect_gateway_error(const Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status);
    ASSERT_EQ(r.header_count("X-Request-Id"), 1u);
    const std::string id = *r.header("X-Request-Id");
    EXPECT_FALSE(id.empty());
    const auto content_type = r.header("Content-Type");
    ASSERT_TRUE(content_type.has_value());
    EXPECT_NE(content_type->find("application/json"), std::string::npos) << *content_type;
    boost::system::error_code ec;
    const json::value body = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << "error body is not JSON: " << r.body;
    ASSERT_TRUE(body.is_object()) << r.body;
    const auto& object = body.as_object();
    ASSERT_TRUE(object.contains("code")) << r.body;
    EXPECT_EQ(object.at("code"), json::value(code)) << r.body;
    ASSERT_TRUE(object.contains("request_id")) << r.body;
    EXPECT_EQ(object.at("request_id"), json::value(id)) << r.body;
    ASSERT_TRUE(object.contains("detail")) << r.body;
    EXPECT_TRUE(object.at("detail").is_string()) << r.body;
}

void expect_not_authenticated(const Response& r) {
    expect_gateway_error(r, 401, "not_authenticated");
    EXPECT_EQ(r.header_count("WWW-Authenticate"), 1u);
    EXPECT_EQ(r.header("WWW-Authenticate"), std::string(kChallenge));
}

// Nothing at all reached the upstream, not even after a short grace period.
void expect_nothing_forwarded(Harness& h) {
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(h.mock().request_count(), 0u);
}

// The catalogue's methods for `pattern`, joined as an Allow value, in catalogue order, with HEAD
// right after GET (HEAD is allowed wherever GET is).
std::string catalogue_allow(std::string_view pattern) {
    std::ifstream in(std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const auto catalogue = json::parse(text.str()).as_object();
    for (const auto& entry : catalogue.at("results").as_array()) {
        if (entry.at("url_pattern").as_string() != pattern) continue;
        std::string allow;
        for (const auto& method : entry.at("methods").as_array()) {
            if (!allow.empty()) allow += ", ";
            allow += std::string(method.at("name").as_string());
            if (method.at("name").as_string() == "GET") allow += ", HEAD";
        }
        return allow;
    }
    ADD_FAILURE() << "pattern not in the catalogue: " << pattern;
    return {};
}

// The mock's generated body: byte i is 'a' + i % 26.
void expect_generated_body(const std::string& body, std::size_t size) {
    ASSERT_EQ(body.size(), size);
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] != static_cast<char>('a' + i % 26)) {
            FAIL() << "body differs at byte " << i << ": got '" << body[i] << "'";
        }
    }
}

// Sends `bytes` (a refused request whose body is a complete second request) and asserts: the
// error comes, the connection closes, nothing more is answered and nothing reaches the mock.
void expect_refused_body_not_parsed(Harness& h, const std::string& bytes, int status, std::string_view code) {
    RawConnection c(h.port());
    c.send(bytes);
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value()) << "no answer to the refused request";
    expect_gateway_error(*r, status, code);
    // One read to the end: it returns before its deadline only when the peer closed (a second
    // read after the end of stream would wait for nothing).
    const auto started = std::chrono::steady_clock::now();
    const std::string rest = c.read_until_close(3s);
    const bool closed = std::chrono::steady_clock::now() - started < 2s;
    EXPECT_EQ(rest, "") << "the smuggled request was answered";
    EXPECT_TRUE(closed) << "the connection stayed open after a refused request with a body";
    expect_nothing_forwarded(h);
}

// A complete request that must never run: it would succeed if it were parsed.
std::string smuggled_request() {
    return "GET /api/v5/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + std::string(kKeyFull) +
           "\r\nX-Request-Id: smuggled\r\n\r\n";
}

// =============================================================================================
// Step 7: the internal key is swapped for the server token.

void expect_key_swapped(const mock::ReceivedRequest& received, std::string_view key) {
    EXPECT_EQ(count_headers(received, "Authorization"), 1u);
    EXPECT_EQ(received.header("Authorization"), "Token " + std::string(kUpstreamToken));
    EXPECT_EQ(received.target.find(key), std::string::npos) << received.target;
    for (const auto& [name, value] : received.headers) {
        EXPECT_EQ(name.find(key), std::string::npos) << name;
        EXPECT_EQ(value.find(key), std::string::npos) << name << ": " << value;
    }
    EXPECT_EQ(received.body.find(key), std::string::npos);
}

void expect_scheme_swapped(std::string_view scheme) {
    SCOPED_TRACE(std::string(scheme));
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {header("Authorization", std::string(scheme) + " " + kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].method, "GET");
    EXPECT_EQ(received[0].target, kUsersMe);
    expect_key_swapped(received[0], kKeyFull);
}

TEST(ProxyTokenSwap, BearerKeyIsReplacedByServerToken) { expect_scheme_swapped("Bearer"); }
TEST(ProxyTokenSwap, LowerCaseBearerKeyIsReplacedByServerToken) { expect_scheme_swapped("bearer"); }
TEST(ProxyTokenSwap, UpperCaseBearerKeyIsReplacedByServerToken) { expect_scheme_swapped("BEARER"); }
TEST(ProxyTokenSwap, TokenKeyIsReplacedByServerToken) { expect_scheme_swapped("Token"); }
TEST(ProxyTokenSwap, LowerCaseTokenKeyIsReplacedByServerToken) { expect_scheme_swapped("token"); }
TEST(ProxyTokenSwap, UpperCaseTokenKeyIsReplacedByServerToken) { expect_scheme_swapped("TOKEN"); }

TEST(ProxyTokenSwap, ReportsClientKeyIsReplacedByServerToken) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", owned_chats_path(), {header("Authorization", "Bearer " + std::string(kKeyReports))});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, owned_chats_path());
    expect_key_swapped(received[0], kKeyReports);
}

TEST(ProxyTokenSwap, TokenQueryParameterIsRemovedAndTheRestKept) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/users/me?token=a&x=1", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, "/api/v5/users/me?x=1");
}

TEST(ProxyTokenSwap, OnlyTokenQueryParameterDropsTheQuestionMark) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/users/me?token=a", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, "/api/v5/users/me");
}

TEST(ProxyTokenSwap, EveryTokenQueryParameterIsRemovedWherever) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/users/me?x=1&token=a&y=2&token=b", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, "/api/v5/users/me?x=1&y=2");
}

TEST(ProxyTokenSwap, OtherQueryParametersAreForwardedAsSent) {
    Harness h(file_policy());
    const std::string target = "/api/v5/users/me?b=2&a=%41%2f&tokens=1&my_token=2&c=&c=3";
    const auto r = request(h.port(), "GET", target, {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].target, target);
}

// =============================================================================================
// Step 2: authentication.

void expect_unauthenticated_request(const Headers& headers, std::string_view target = kUsersMe) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", target, headers);
    expect_not_authenticated(r);
    expect_nothing_forwarded(h);
}

TEST(ProxyAuth, MissingAuthorizationGets401WithChallengeAndNothingForwarded) { expect_unauthenticated_request({}); }

TEST(ProxyAuth, UnknownKeyGets401WithChallengeAndNothingForwarded) {
    expect_unauthenticated_request({header("Authorization", "Token key-unknown-000000")});
}

TEST(ProxyAuth, UpstreamTokenAsKeyGets401AndNothingForwarded) {
    expect_unauthenticated_request({auth(kUpstreamToken)});
}

TEST(ProxyAuth, TwoAuthorizationHeadersGet401EvenWhenBothAreValid) {
    expect_unauthenticated_request({auth(kKeyFull), auth(kKeyFull)});
}

TEST(ProxyAuth, TwoDifferentAuthorizationHeadersGet401) {
    expect_unauthenticated_request({auth(kKeyReports), header("Authorization", "Bearer " + std::string(kKeyFull))});
}

TEST(ProxyAuth, BasicSchemeGets401AndNothingForwarded) {
    expect_unauthenticated_request({header("Authorization", "Basic " + std::string(kKeyFull))});
}

TEST(ProxyAuth, KeyInTokenQueryParameterOnlyGets401AndNothingForwarded) {
    expect_unauthenticated_request({}, "/api/v5/users/me?token=" + std::string(kKeyFull));
}

TEST(ProxyAuth, KeyInXApiKeyHeaderOnlyGets401AndNothingForwarded) {
    expect_unauthenticated_request({header("X-Api-Key", kKeyFull)});
}

TEST(ProxyAuth, SchemeWithoutKeyGets401AndNothingForwarded) {
    expect_unauthenticated_request({header("Authorization", "Token")});
}

// =============================================================================================
// Steps 3-6: catalogue, method, organisation, scope. None of them forwards anything.

TEST(ProxyPolicy, UnknownPathGets404UnknownEndpointAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/no_such_thing", {auth(kKeyFull)});
    expect_gateway_error(r, 404, "unknown_endpoint");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, UpperCasePathGets404UnknownEndpointAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/API/V5/USERS/ME", {auth(kKeyFull)});
    expect_gateway_error(r, 404, "unknown_endpoint");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, MethodNotInCatalogueGets405WithAllowAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "PATCH", rooms_path(), {auth(kKeyFull)}, R"({"name": "x"})");
    expect_gateway_error(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header_count("Allow"), 1u);
    EXPECT_EQ(r.header("Allow"), catalogue_allow("/api/v5/orgs/<organization_id>/rooms"));
    EXPECT_EQ(r.header("Allow"), "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(r.json().at("detail"), json::value(R"(Method "PATCH" not allowed.)"));
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, DeleteOnReadOnlyEndpointGets405WithItsAllow) {
    Harness h(file_policy());
    const auto r = request(h.port(), "DELETE", kUsersMe, {auth(kKeyFull)});
    expect_gateway_error(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header_count("Allow"), 1u);
    EXPECT_EQ(r.header("Allow"), catalogue_allow("/api/v5/users/me"));
    EXPECT_EQ(r.json().at("detail"), json::value(R"(Method "DELETE" not allowed.)"));
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, HeadIsAllowedWhereGetIsAndAnsweredWithoutBody) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("HEAD", kUsersMe, {auth(kKeyFull)}));
    // A HEAD answer carries no body, so only the head is read; the connection stays usable.
    const auto r = c.read_response(2s, true);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(r->header_count("X-Request-Id"), 1u);
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].method, "HEAD");
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("Connection", "close")}));
    const auto next = c.read_response(2s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->status, 200);
    EXPECT_FALSE(next->body.empty());
}

TEST(ProxyPolicy, HeadOnAnEndpointWithoutGetGets405ListingNoHead) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("HEAD", "/api/v5/incoming_invitations/abc/accept", {auth(kKeyFull), header("Connection", "close")}));
    const auto r = c.read_response(2s, true);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header("Allow"), "POST, OPTIONS");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, MethodOverrideHeaderGets400AtTheMethodStepAndNothingForwarded) {
    Harness h(file_policy());
    for (const char* name : {"X-HTTP-Method-Override", "x-http-method", "X-Method-Override"}) {
        const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header(name, "DELETE")});
        expect_gateway_error(r, 400, "bad_request");
        EXPECT_EQ(r.json().at("detail"), json::value("Method override headers are not accepted.")) << name;
    }
    // Authentication and matching come first: their refusals win.
    expect_gateway_error(request(h.port(), "GET", kUsersMe, {header("X-HTTP-Method-Override", "DELETE")}), 401,
                         "not_authenticated");
    expect_gateway_error(
        request(h.port(), "GET", "/api/v5/nowhere", {auth(kKeyFull), header("X-HTTP-Method-Override", "DELETE")}),
        404, "unknown_endpoint");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, OtherOrganizationGets403OrganizationForbiddenAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", owned_chats_path(kOtherOrg), {auth(kKeyReports)});
    expect_gateway_error(r, 403, "organization_forbidden");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, UpperCaseOrganizationIdGets403OrganizationForbidden) {
    Harness h(file_policy());
    std::string upper = kOrg;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    ASSERT_NE(upper, kOrg);
    const auto r = request(h.port(), "GET", owned_chats_path(upper), {auth(kKeyReports)});
    expect_gateway_error(r, 403, "organization_forbidden");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, ClientWithoutScopesGets403InsufficientScopeAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", owned_chats_path(), {auth(kKeyNoScope)});
    expect_gateway_error(r, 403, "insufficient_scope");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, ReportsClientPostingRoomsGets403InsufficientScopeAndNothingForwarded) {
    Harness h(file_policy());
    const auto r = request(h.port(), "POST", rooms_path(), {auth(kKeyReports)}, R"({"name": "x"})");
    expect_gateway_error(r, 403, "insufficient_scope");
    expect_nothing_forwarded(h);
}

TEST(ProxyPolicy, ClientWithoutScopesMayCallEndpointThatNeedsNone) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyNoScope)});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(h.mock().request_count(), 1u);
}

// =============================================================================================
// Step 7: hop-by-hop headers and Host.

TEST(ProxyHeaders, HopByHopRequestHeadersAreNotForwarded) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("GET", kUsersMe,
                       {auth(kKeyFull), header("Connection", "keep-alive, X-Secret-Hop"), header("Keep-Alive", "timeout=5"),
                        header("TE", "trailers"), header("Trailer", "X-Checksum"), header("Upgrade", "websocket"),
                        header("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"), header("Proxy-Connection", "keep-alive"),
                        header("X-Secret-Hop", "hop-value"), header("X-Kept", "kept-value")}));
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200) << r->body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    for (const auto& [name, value] : received[0].headers) {
        for (const char* dropped : {"Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection",
                                    "X-Secret-Hop"})
            EXPECT_FALSE(iequals(name, dropped)) << name << ": " << value;
        // The gateway may manage its own upstream connection, but never with the client's list.
        if (iequals(name, "Connection")) {
            EXPECT_TRUE(iequals(value, "keep-alive")) << value;
        }
        EXPECT_EQ(value.find("hop-value"), std::string::npos) << name;
    }
    EXPECT_EQ(received[0].header("X-Kept"), "kept-value");
}

TEST(ProxyHeaders, UnderscoreNamesAndClientForwardingFieldsNeverReachTheUpstream) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe,
                           {auth(kKeyFull), header("X_Request_Id", "spoofed-id"), header("X_Api_Role", "admin"),
                            header("Forwarded", "for=10.1.2.3"), header("X-Forwarded-For", "10.1.2.4"),
                            header("X-Forwarded-Host", "internal.corp"), header("X-Real-IP", "10.1.2.5"),
                            header("X-Kept", "kept-value")});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    for (const auto& [name, value] : received[0].headers) {
        EXPECT_EQ(name.find('_'), std::string::npos) << name;
        EXPECT_EQ(value.find("10.1.2."), std::string::npos) << name;
        EXPECT_FALSE(iequals(name, "X-Forwarded-Host")) << value;
    }
    EXPECT_EQ(received[0].header("X-Kept"), "kept-value");
    EXPECT_NE(received[0].header("X-Request-Id"), "spoofed-id");

    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("dropped_headers").as_int64(), 2);
    EXPECT_NE(h.metrics().render().find("giosg_gateway_dropped_headers_total 2\n"), std::string::npos);
}

TEST(ProxyHeaders, RequestWithoutUnderscoreNamesHasNoDroppedHeadersField) {
    Harness h(file_policy());
    EXPECT_EQ(request(h.port(), "GET", kUsersMe, {auth(kKeyFull)}).status, 200);
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_FALSE(records[0].contains("dropped_headers"));
}

TEST(ProxyHeaders, ConnectionNamingAuthorizationAndHostKeepsServerTokenAndUpstreamHost) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("Connection", "Authorization, Host")});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(count_headers(received[0], "Authorization"), 1u);
    EXPECT_EQ(received[0].header("Authorization"), "Token " + std::string(kUpstreamToken));
    EXPECT_EQ(count_headers(received[0], "Host"), 1u);
    EXPECT_EQ(received[0].header("Host"), upstream_authority(h.mock()));
}

TEST(ProxyHeaders, HostIsTheUpstreamAuthorityNotTheClients) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull)});  // sends Host: gateway.test
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(count_headers(received[0], "Host"), 1u);
    EXPECT_EQ(received[0].header("Host"), upstream_authority(h.mock()));
    for (const auto& [name, value] : received[0].headers)
        EXPECT_EQ(value.find("gateway.test"), std::string::npos) << name << ": " << value;
}

TEST(ProxyHeaders, EndToEndRequestHeadersAreForwardedAsSent) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe,
                           {auth(kKeyFull), header("Accept", "application/json"), header("X-Custom", "a, b;  c"),
                            header("Accept-Language", "fi-FI")});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].header("Accept"), "application/json");
    EXPECT_EQ(received[0].header("X-Custom"), "a, b;  c");
    EXPECT_EQ(received[0].header("Accept-Language"), "fi-FI");
}

// =============================================================================================
// X-Request-Id.

// Sends `ids` as X-Request-Id headers to an allowed endpoint; returns the answer's id after
// checking it is the one id the upstream received.
std::string forwarded_request_id(Harness& h, const std::vector<std::string>& ids) {
    Headers headers{auth(kKeyFull)};
    for (const auto& id : ids) headers.push_back(header("X-Request-Id", id));
    const auto r = request(h.port(), "GET", kUsersMe, headers);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
    const std::string id = r.header("X-Request-Id").value_or("");
    const auto received = h.mock().received();
    EXPECT_EQ(received.size(), 1u);
    if (received.empty()) return id;
    EXPECT_EQ(count_headers(received.back(), "X-Request-Id"), 1u);
    EXPECT_EQ(received.back().header("X-Request-Id"), id);
    return id;
}

TEST(ProxyRequestId, ValidClientRequestIdIsEchoedAndSentUpstream) {
    Harness h(file_policy());
    EXPECT_EQ(forwarded_request_id(h, {"req-42_A.b"}), "req-42_A.b");
}

TEST(ProxyRequestId, RequestIdOf128CharactersIsKept) {
    Harness h(file_policy());
    const std::string id(128, 'z');
    EXPECT_EQ(forwarded_request_id(h, {id}), id);
}

TEST(ProxyRequestId, RequestIdOf129CharactersIsReplacedByANewOne) {
    Harness h(file_policy());
    const std::string id(129, 'z');
    const auto answered = forwarded_request_id(h, {id});
    EXPECT_TRUE(is_new_request_id(answered)) << answered;
}

TEST(ProxyRequestId, RequestIdWithForbiddenCharactersIsReplacedByANewOne) {
    for (const char* bad : {"abc/def", "a:b", "id%20x", "{uuid}", "a+b"}) {
        SCOPED_TRACE(bad);
        Harness h(file_policy());
        const auto answered = forwarded_request_id(h, {bad});
        EXPECT_TRUE(is_new_request_id(answered)) << answered;
        EXPECT_NE(answered, bad);
    }
}

TEST(ProxyRequestId, TwoRequestIdsAreReplacedByANewOne) {
    Harness h(file_policy());
    const auto answered = forwarded_request_id(h, {"first-id", "second-id"});
    EXPECT_TRUE(is_new_request_id(answered)) << answered;
}

TEST(ProxyRequestId, NewRequestIdsDifferPerRequest) {
    Harness h(file_policy());
    std::set<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        const auto r = request(h.port(), "GET", "/api/v5/no_such_thing", {auth(kKeyFull)});
        ASSERT_EQ(r.header_count("X-Request-Id"), 1u);
        EXPECT_TRUE(is_new_request_id(*r.header("X-Request-Id"))) << *r.header("X-Request-Id");
        ids.insert(*r.header("X-Request-Id"));
    }
    EXPECT_EQ(ids.size(), 5u);
}

TEST(ProxyRequestId, GatewayErrorEchoesValidClientRequestIdInHeaderAndBody) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", "/api/v5/no_such_thing", {auth(kKeyFull), header("X-Request-Id", "err-7")});
    expect_gateway_error(r, 404, "unknown_endpoint");
    EXPECT_EQ(r.header("X-Request-Id"), "err-7");
}

TEST(ProxyRequestId, EveryResponseCarriesExactlyOneRequestId) {
    Harness h(file_policy());
    struct Case {
        std::string method, target;
        Headers headers;
        int status;
        const char* code;  // nullptr: the upstream's answer
    };
    const std::vector<Case> cases{
        {"GET", std::string(kUsersMe), {auth(kKeyFull)}, 200, nullptr},
        {"GET", std::string(kUsersMe), {auth(kKeyFull), header("X-Mock-Fault", "status=500")}, 500, nullptr},
        {"GET", "/api/v5/users/../me", {auth(kKeyFull)}, 400, "bad_request"},
        {"GET", std::string(kUsersMe), {}, 401, "not_authenticated"},
        {"GET", owned_chats_path(kOtherOrg), {auth(kKeyReports)}, 403, "organization_forbidden"},
        {"GET", owned_chats_path(), {auth(kKeyNoScope)}, 403, "insufficient_scope"},
        {"GET", "/api/v5/nothing", {auth(kKeyFull)}, 404, "unknown_endpoint"},
        {"PUT", std::string(kUsersMe), {auth(kKeyFull)}, 405, "method_not_allowed"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.method + " " + c.target);
        const auto r = request(h.port(), c.method, c.target, c.headers);
        EXPECT_EQ(r.status, c.status) << r.body;
        EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
        if (c.code != nullptr) expect_gateway_error(r, c.status, c.code);
    }
}

// =============================================================================================
// Keep-alive, pipelining, upstream connection reuse.

TEST(ProxyKeepAlive, PipelinedRequestsAreAnsweredInOrder) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Request-Id", "pipe-1")}) +
           raw_request("GET", "/api/v5/no_such_thing", {auth(kKeyFull), header("X-Request-Id", "pipe-2")}) +
           raw_request("GET", owned_chats_path(), {auth(kKeyReports), header("X-Request-Id", "pipe-3")}) +
           raw_request("GET", owned_chats_path(kOtherOrg), {auth(kKeyReports), header("X-Request-Id", "pipe-4")}));
    const std::vector<std::pair<std::string, int>> expected{{"pipe-1", 200}, {"pipe-2", 404}, {"pipe-3", 200}, {"pipe-4", 403}};
    for (const auto& [id, status] : expected) {
        SCOPED_TRACE(id);
        const auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value()) << "no answer";
        EXPECT_EQ(r->status, status) << r->body;
        EXPECT_EQ(r->header_count("X-Request-Id"), 1u);
        EXPECT_EQ(r->header("X-Request-Id"), id);
    }
    // The connection is still usable after the pipelined batch.
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Request-Id", "pipe-5")}));
    const auto last = c.read_response(2s);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->status, 200);
    EXPECT_EQ(last->header("X-Request-Id"), "pipe-5");

    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 3u);
    EXPECT_EQ(received[0].header("X-Request-Id"), "pipe-1");
    EXPECT_EQ(received[1].header("X-Request-Id"), "pipe-3");
    EXPECT_EQ(received[2].header("X-Request-Id"), "pipe-5");
}

TEST(ProxyKeepAlive, UpstreamConnectionIsReusedAcrossSequentialRequests) {
    Harness h(file_policy());  // one worker, so one pool
    RawConnection c(h.port());
    for (int i = 0; i < 5; ++i) {
        c.send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
        const auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(h.mock().request_count(), 5u);
    EXPECT_EQ(h.mock().connections_accepted(), 1u);
    const std::string metrics = h.metrics().render();
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_connections_opened_total"), 1u) << metrics;
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_idle_overflow_total"), 0u) << metrics;
}

TEST(ProxyKeepAlive, UpstreamConnectionIsReusedAcrossClientConnections) {
    Harness h(file_policy());
    for (int i = 0; i < 3; ++i) {
        RawConnection c(h.port());
        c.send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
        const auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        // Keep the client connection open until the gateway is idle again, so the upstream
        // connection is back in the pool before the next client connects.
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(h.mock().request_count(), 3u);
    EXPECT_EQ(h.mock().connections_accepted(), 1u);
}

TEST(ProxyKeepAlive, MaxIdleConnectionsZeroOpensAnUpstreamConnectionPerRequest) {
    HarnessOptions options = file_policy();
    options.upstream_json = R"("max_idle_connections": 0)";
    Harness h(options);
    RawConnection c(h.port());
    for (int i = 0; i < 3; ++i) {
        c.send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
        const auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(h.mock().connections_accepted(), 3u);
    const std::string metrics = metrics_once(h, "giosg_gateway_upstream_idle_overflow_total", 3);
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_connections_opened_total"), 3u) << metrics;
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_idle_overflow_total"), 3u) << metrics;
}

TEST(ProxyKeepAlive, IdlePoolKeepsAtMostMaxIdleConnections) {
    HarnessOptions options = file_policy();
    options.upstream_json = R"("max_idle_connections": 1)";
    Harness h(options);
    // Two requests in flight at once need two upstream connections; only one may stay idle.
    RawConnection a(h.port());
    RawConnection b(h.port());
    const std::string slow = raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "delay=200")});
    a.send(slow);
    b.send(slow);
    const auto ra = a.read_response(3s);
    const auto rb = b.read_response(3s);
    ASSERT_TRUE(ra.has_value() && rb.has_value());
    EXPECT_EQ(ra->status, 200);
    EXPECT_EQ(rb->status, 200);
    EXPECT_EQ(h.mock().connections_accepted(), 2u);
    std::string metrics = metrics_once(h, "giosg_gateway_upstream_idle_overflow_total", 1);
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_idle_overflow_total"), 1u) << metrics;
    // The one kept is reused: nothing new is opened for the next requests, one at a time.
    for (RawConnection* c : {&a, &b}) {
        c->send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
        const auto r = c->read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        std::this_thread::sleep_for(50ms);  // back in the pool before the next one
    }
    EXPECT_EQ(h.mock().connections_accepted(), 2u);
    metrics = h.metrics().render();
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_connections_opened_total"), 2u) << metrics;
    EXPECT_EQ(metric_value(metrics, "giosg_gateway_upstream_idle_overflow_total"), 1u) << metrics;
}

// RFC 9110 §8.6: a 204 carries no Content-Length, even when the upstream sent one.
TEST(ProxyKeepAlive, NoContentIsPassedOnWithoutContentLength) {
    Harness h(file_policy());
    RawConnection c(h.port());
    for (int i = 0; i < 2; ++i) {  // and the connection stays in step
        c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "204-with-length")}));
        const auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 204);
        EXPECT_EQ(r->header_count("Content-Length"), 0u);
        EXPECT_TRUE(r->body.empty());
    }
}

// Bytes an upstream sends after a complete response never become the next request's answer,
// however soon after the release that request comes (and it may be another client's).
TEST(ProxyKeepAlive, LateUpstreamBytesAreNeverServedToTheNextRequest) {
    Harness h(file_policy());  // one worker, so one pool
    const auto first = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "late-answer=20")});
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, R"({"first":1})");
    std::this_thread::sleep_for(100ms);  // the unasked answer has arrived on the pooled connection
    const auto second = request(h.port(), "GET", owned_chats_path(), {auth(kKeyReports)});  // another client
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body.find("injected"), std::string::npos) << second.body;
    EXPECT_EQ(h.mock().request_count(), 2u);
    EXPECT_EQ(h.mock().connections_accepted(), 2u);  // the tainted connection was not reused
}

// Client connections per worker: accepted and open, so operators see load and SO_REUSEPORT balance.
TEST(ProxyMetrics, ClientConnectionsAreCountedPerWorker) {
    HarnessOptions options = file_policy();
    options.workers = 2;
    Harness h(options);
    std::vector<std::optional<RawConnection>> conns(6);
    for (auto& c : conns) {
        c.emplace(h.port());
        c->send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
        const auto r = c->read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
    }
    const auto per_worker = [&](std::string_view name) {
        const std::string metrics = h.metrics().render();
        std::array<std::uint64_t, 2> v{};
        for (std::size_t w = 0; w < v.size(); ++w) {
            const auto value = metric_value(metrics, std::string(name) + "{worker=\"" + std::to_string(w) + "\"}");
            EXPECT_TRUE(value.has_value()) << name << " worker " << w << "\n" << metrics;
            v[w] = value.value_or(0);
        }
        EXPECT_EQ(metric_value(metrics, std::string(name) + "{worker=\"2\"}"), std::nullopt) << metrics;
        return v;
    };
    auto accepted = per_worker("giosg_gateway_downstream_connections_accepted_total");
    auto active = per_worker("giosg_gateway_downstream_connections_active");
    EXPECT_EQ(accepted[0] + accepted[1], 6u);
    EXPECT_EQ(active, accepted);  // all still open
    EXPECT_EQ(per_worker("giosg_gateway_downstream_connections_refused_total"), (std::array<std::uint64_t, 2>{}));

    for (std::size_t i = 0; i < 4; ++i) conns[i].reset();  // the client closes four
    for (int i = 0; i < 200; ++i) {
        active = per_worker("giosg_gateway_downstream_connections_active");
        if (active[0] + active[1] == 2) break;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(active[0] + active[1], 2u);
    accepted = per_worker("giosg_gateway_downstream_connections_accepted_total");
    EXPECT_EQ(accepted[0] + accepted[1], 6u);  // a counter: closing does not lower it
}

// =============================================================================================
// A refused request's body is never read, so never parsed as a next request (request smuggling).

TEST(ProxySmuggling, BodyOfUnauthenticatedRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    expect_refused_body_not_parsed(h, raw_request("POST", rooms_path(), {}, smuggled_request()), 401, "not_authenticated");
}

TEST(ProxySmuggling, BodyOfForbiddenRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    expect_refused_body_not_parsed(h, raw_request("POST", rooms_path(), {auth(kKeyReports)}, smuggled_request()), 403,
                                   "insufficient_scope");
}

TEST(ProxySmuggling, BodyOfOtherOrganizationRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    expect_refused_body_not_parsed(h, raw_request("POST", rooms_path(kOtherOrg), {auth(kKeyReports)}, smuggled_request()),
                                   403, "organization_forbidden");
}

TEST(ProxySmuggling, BodyOfUnknownEndpointRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    expect_refused_body_not_parsed(h, raw_request("POST", "/api/v5/no_such_thing", {auth(kKeyFull)}, smuggled_request()),
                                   404, "unknown_endpoint");
}

TEST(ProxySmuggling, BodyOfMethodNotAllowedRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    expect_refused_body_not_parsed(h, raw_request("POST", kUsersMe, {auth(kKeyFull)}, smuggled_request()), 405,
                                   "method_not_allowed");
}

TEST(ProxySmuggling, ChunkedBodyOfRefusedRequestIsNotParsedAsNextRequest) {
    Harness h(file_policy());
    const std::string inner = smuggled_request();
    std::ostringstream chunk;
    chunk << std::hex << inner.size() << "\r\n" << inner << "\r\n0\r\n\r\n";
    // The chunk's payload is a request, and so is everything after the (ignored) body.
    const std::string bytes =
        raw_request("POST", rooms_path(), {header("Transfer-Encoding", "chunked")}) + chunk.str() + inner;
    expect_refused_body_not_parsed(h, bytes, 401, "not_authenticated");
}

// =============================================================================================
// Request bodies.

TEST(ProxyBody, ContentLengthBodyIsForwardedByteExact) {
    Harness h(file_policy());
    std::string body = "{\"name\": \"caf\xc3\xa9\"}\r\n\r\nGET / HTTP/1.1\r\n";
    body.push_back('\0');
    body += "\x01\x7f\xff end";
    const auto r = request(h.port(), "POST", rooms_path(), {auth(kKeyFull)}, body);
    EXPECT_EQ(r.status, 201) << r.body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].method, "POST");
    EXPECT_EQ(received[0].body, body);
    EXPECT_EQ(received[0].header("Content-Length"), std::to_string(body.size()));
    EXPECT_EQ(count_headers(received[0], "Transfer-Encoding"), 0u);
}

TEST(ProxyBody, EchoedBodyMatchesWhatTheClientSent) {
    Harness h(file_policy());
    const std::string body = R"({"name": "Room \"A\"", "domain": "example.com", "list": [1, 2, 3]})";
    const auto r = request(h.port(), "POST", rooms_path(), {auth(kKeyFull), header("X-Mock-Echo", "1"),
                                                            header("Content-Type", "application/json")},
                           body);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto echo = r.json().as_object();
    EXPECT_EQ(echo.at("method"), json::value("POST"));
    EXPECT_EQ(echo.at("target"), json::value(rooms_path()));
    EXPECT_EQ(echo.at("body"), json::value(body));
}

TEST(ProxyHeaders, HeadLongerThanTheFirstReadIsForwardedWholeAndTheConnectionStaysUsable) {
    // The read that waits for a request takes 2 KiB; this head is over 6 KiB (limit: 16 KiB).
    Harness h(file_policy());
    RawConnection c(h.port());
    const std::string big(6000, 'v');
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Big", big), header("X-After", "end")}));
    const auto first = c.read_response(2s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200) << first->body;
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull)}));
    const auto second = c.read_response(2s);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->status, 200) << second->body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 2u);
    EXPECT_EQ(received[0].header("X-Big"), big);
    EXPECT_EQ(received[0].header("X-After"), "end");
    EXPECT_EQ(count_headers(received[1], "X-Big"), 0u);
}

TEST(ProxyBody, ChunkedBodyIsForwardedDechunkedWithContentLength) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("POST", rooms_path(),
                       {auth(kKeyFull), header("Transfer-Encoding", "chunked"), header("Content-Type", "application/json")}) +
           "5\r\n{\"nam\r\n" + "9;ext=1\r\ne\": \"chun\r\n" + "4\r\nked\"\r\n" + "1\r\n}\r\n" + "0\r\n\r\n");
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 201) << r->body;
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    const std::string expected = R"({"name": "chunked"})";
    EXPECT_EQ(received[0].body, expected);
    EXPECT_EQ(received[0].header("Content-Length"), std::to_string(expected.size()));
    EXPECT_EQ(count_headers(received[0], "Transfer-Encoding"), 0u);
}

TEST(ProxyBody, ExpectContinueOnAllowedRequestGets100BeforeTheBodyIsSent) {
    Harness h(file_policy());
    const std::string body = R"({"name": "later"})";
    RawConnection c(h.port());
    c.send(raw_request("POST", rooms_path(),
                       {auth(kKeyFull), header("Expect", "100-continue"),
                        header("Content-Length", std::to_string(body.size())), header("X-Request-Id", "cont-1")}));
    const auto interim = c.read_response(2s);
    ASSERT_TRUE(interim.has_value()) << "no 100 Continue before the body was sent";
    EXPECT_EQ(interim->status, 100);
    EXPECT_EQ(h.mock().request_count(), 0u);  // nothing forwarded before the body arrived
    c.send(body);
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 201) << r->body;
    EXPECT_EQ(r->header("X-Request-Id"), "cont-1");
    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].body, body);
}

TEST(ProxyBody, ExpectContinueOnRefusedRequestGetsErrorWithout100AndCloses) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("POST", rooms_path(), {header("Expect", "100-continue"), header("Content-Length", "17")}));
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    expect_not_authenticated(*r);  // the first thing that arrives: no 100 before it
    EXPECT_TRUE(c.closed_by_peer(2s));
    expect_nothing_forwarded(h);
}

// =============================================================================================
// Large responses are streamed through whole.

TEST(ProxyLargeResponse, ContentLengthResponseOf9MBArrivesCompleteAndInOrder) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "body-bytes=9000000")});
    EXPECT_EQ(r.status, 200);
    expect_generated_body(r.body, 9000000);
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
}

TEST(ProxyLargeResponse, ChunkedResponseOf9MBArrivesCompleteAndInOrder) {
    Harness h(file_policy());
    const auto r =
        request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "chunked-body-bytes=9000000")});
    EXPECT_EQ(r.status, 200);
    expect_generated_body(r.body, 9000000);
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
}

TEST(ProxyLargeResponse, KeepAliveConnectionServesNextRequestAfterLargeResponse) {
    Harness h(file_policy());
    RawConnection c(h.port());
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "chunked-body-bytes=3000000")}));
    const auto big = c.read_response(5s);
    ASSERT_TRUE(big.has_value());
    expect_generated_body(big->body, 3000000);
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Request-Id", "after-big")}));
    const auto next = c.read_response(2s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->header("X-Request-Id"), "after-big");
}

// =============================================================================================
// Upstream statuses pass through.

TEST(ProxyUpstreamStatus, UpstreamErrorStatusesArePassedThroughUnchanged) {
    Harness h(file_policy());
    std::vector<std::string> ids;
    for (int status : {404, 500, 503}) {
        SCOPED_TRACE(status);
        const auto r = request(h.port(), "GET", kUsersMe,
                               {auth(kKeyFull), header("X-Mock-Fault", "status=" + std::to_string(status))});
        EXPECT_EQ(r.status, status);
        // The upstream's own body, not a gateway error.
        EXPECT_EQ(r.json().at("detail"), json::value("mock fault"));
        EXPECT_FALSE(r.json().as_object().contains("code")) << r.body;
        ids.push_back(r.header("X-Request-Id").value_or(""));
    }
    EXPECT_EQ(h.mock().request_count(), 3u);
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto& record = records[i];
        const auto it = std::find(ids.begin(), ids.end(), std::string(record.at("request_id").as_string()));
        ASSERT_NE(it, ids.end());
        const int status = std::vector<int>{404, 500, 503}[static_cast<std::size_t>(it - ids.begin())];
        EXPECT_EQ(record.at("code"), json::value("ok"));
        EXPECT_EQ(record.at("decision"), json::value("allow"));
        EXPECT_EQ(record.at("status"), json::value(status));
        EXPECT_EQ(record.at("upstream_status"), json::value(status));
    }
}

// =============================================================================================
// Audit (docs/reference.md §4).

const std::set<std::string>& required_audit_fields() {
    static const std::set<std::string> fields{"ts",       "request_id", "client",          "remote",   "method",
                                              "path",     "pattern",    "decision",        "code",     "status",
                                              "upstream_status", "bytes_in", "bytes_out", "duration_ms", "upstream_ms"};
    return fields;
}

// The §4 request record: exactly the listed fields, plus only the integrity fields of the audit
// issue (`seq`, `prev`, `hash`), `"kind": "request"` where an implementation writes them, and
// §7's `identity` / `auth_error`.
void expect_contract_record_shape(const json::object& record) {
    SCOPED_TRACE(json::serialize(record));
    std::set<std::string> keys;
    for (const auto& [key, value] : record) keys.insert(std::string(key));
    for (const auto& field : required_audit_fields()) EXPECT_TRUE(keys.count(field)) << "missing " << field;
    for (const auto& key : keys) {
        const bool optional = key == "seq" || key == "prev" || key == "hash" || key == "kind" || key == "identity" ||
                              key == "auth_error" || key == "limit";
        EXPECT_TRUE(required_audit_fields().count(key) || optional) << "unexpected field " << key;
    }
    if (record.contains("kind")) {
        EXPECT_EQ(record.at("kind"), json::value("request"));
    }

    static const std::regex rfc3339_ms(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
    static const std::regex remote(R"(^127\.0\.0\.1:\d{1,5}$)");
    ASSERT_TRUE(record.at("ts").is_string());
    const std::string ts(record.at("ts").as_string());
    EXPECT_TRUE(std::regex_match(ts, rfc3339_ms)) << ts;
    EXPECT_TRUE(record.at("request_id").is_string());
    EXPECT_TRUE(record.at("client").is_string() || record.at("client").is_null());
    ASSERT_TRUE(record.at("remote").is_string());
    const std::string remote_text(record.at("remote").as_string());
    EXPECT_TRUE(std::regex_match(remote_text, remote)) << remote_text;
    EXPECT_TRUE(record.at("method").is_string());
    ASSERT_TRUE(record.at("path").is_string());
    EXPECT_EQ(std::string(record.at("path").as_string()).find('?'), std::string::npos);
    EXPECT_TRUE(record.at("pattern").is_string() || record.at("pattern").is_null());
    EXPECT_TRUE(record.at("decision") == json::value("allow") || record.at("decision") == json::value("deny"));
    EXPECT_TRUE(record.at("code").is_string());
    EXPECT_TRUE(record.at("status").is_int64() || record.at("status").is_uint64());
    EXPECT_TRUE(record.at("upstream_status").is_number() || record.at("upstream_status").is_null());
    EXPECT_TRUE(record.at("bytes_in").is_int64() || record.at("bytes_in").is_uint64());
    EXPECT_TRUE(record.at("bytes_out").is_int64() || record.at("bytes_out").is_uint64());
    EXPECT_TRUE(record.at("duration_ms").is_number());
    EXPECT_TRUE(record.at("upstream_ms").is_number() || record.at("upstream_ms").is_null());
    // Refused requests never reached the upstream; answered ones have its status and timing.
    if (record.at("decision") == json::value("deny")) {
        EXPECT_TRUE(record.at("upstream_status").is_null());
        EXPECT_TRUE(record.at("upstream_ms").is_null());
    }
    if (record.at("code") == json::value("ok")) {
        EXPECT_EQ(record.at("decision"), json::value("allow"));
        EXPECT_TRUE(record.at("upstream_status").is_number());
        EXPECT_TRUE(record.at("upstream_ms").is_number());
    }
}

// Reads exactly `count` records (waits a little longer to catch extra ones) keyed by request_id.
std::map<std::string, json::object> audit_by_id(Harness& h, std::size_t count) {
    auto records = h.audit_records(count);
    std::this_thread::sleep_for(100ms);
    records = h.audit_records(count, 0ms);
    EXPECT_EQ(records.size(), count);
    std::map<std::string, json::object> by_id;
    for (auto& record : records) {
        expect_contract_record_shape(record);
        by_id[std::string(record.at("request_id").as_string())] = std::move(record);
    }
    EXPECT_EQ(by_id.size(), records.size()) << "request ids repeat across records";
    return by_id;
}

double number(const json::value& v) { return v.to_number<double>(); }

TEST(ProxyAudit, EveryRequestWritesExactlyOneRecordWithTheContractFields) {
    Harness h(file_policy());
    std::vector<Response> responses;
    responses.push_back(request(h.port(), "GET", "/api/v5/users/me?token=abc&x=1", {auth(kKeyFull)}));
    responses.push_back(request(h.port(), "GET", kUsersMe, {}));
    responses.push_back(request(h.port(), "PATCH", rooms_path(), {auth(kKeyFull)}, "{}"));
    responses.push_back(request(h.port(), "GET", "/api/v5/no_such_thing?q=1", {auth(kKeyFull)}));
    responses.push_back(request(h.port(), "GET", owned_chats_path(kOtherOrg), {auth(kKeyReports)}));
    responses.push_back(request(h.port(), "GET", owned_chats_path(), {auth(kKeyNoScope)}));
    responses.push_back(request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "status=503")}));
    const auto records = audit_by_id(h, responses.size());
    for (const auto& r : responses) {
        const auto id = r.header("X-Request-Id").value_or("");
        ASSERT_TRUE(records.count(id)) << "no audit record for " << id;
        const auto& record = records.at(id);
        EXPECT_EQ(record.at("status"), json::value(r.status));
        EXPECT_EQ(number(record.at("bytes_out")), static_cast<double>(r.body.size()));
    }
}

TEST(ProxyAudit, RefusedRequestRecordsMatchTheirResponses) {
    Harness h(file_policy());
    const auto unauthenticated = request(h.port(), "GET", "/api/v5/users/me?token=zzz", {});
    const auto not_allowed = request(h.port(), "PATCH", rooms_path(), {auth(kKeyFull)}, "{}");
    const auto unknown = request(h.port(), "GET", "/api/v5/no_such_thing?q=1", {auth(kKeyFull)});
    const auto other_org = request(h.port(), "GET", owned_chats_path(kOtherOrg), {auth(kKeyReports)});
    const auto no_scope = request(h.port(), "GET", owned_chats_path(), {auth(kKeyNoScope)});
    const auto records = audit_by_id(h, 5);

    struct Expected {
        const Response* response;
        const char* method;
        std::string path;
        json::value client;
        json::value pattern;
        const char* code;
    };
    const std::vector<Expected> expected{
        {&unauthenticated, "GET", std::string(kUsersMe), nullptr, nullptr, "not_authenticated"},
        {&not_allowed, "PATCH", rooms_path(), json::value("full"),
         json::value("/api/v5/orgs/<organization_id>/rooms"), "method_not_allowed"},
        {&unknown, "GET", "/api/v5/no_such_thing", json::value("full"), nullptr, "unknown_endpoint"},
        {&other_org, "GET", owned_chats_path(kOtherOrg), json::value("reports"),
         json::value("/api/v5/orgs/<organization_id>/owned_chats"), "organization_forbidden"},
        {&no_scope, "GET", owned_chats_path(), json::value("noscope"),
         json::value("/api/v5/orgs/<organization_id>/owned_chats"), "insufficient_scope"},
    };
    for (const auto& e : expected) {
        SCOPED_TRACE(e.code);
        const auto id = e.response->header("X-Request-Id").value_or("");
        ASSERT_TRUE(records.count(id)) << "no audit record for " << id;
        const auto& record = records.at(id);
        EXPECT_EQ(record.at("method"), json::value(e.method));
        EXPECT_EQ(record.at("path"), json::value(e.path));
        EXPECT_EQ(record.at("client"), e.client);
        EXPECT_EQ(record.at("pattern"), e.pattern);
        EXPECT_EQ(record.at("decision"), json::value("deny"));
        EXPECT_EQ(record.at("code"), json::value(e.code));
        EXPECT_EQ(record.at("status"), json::value(e.response->status));
        EXPECT_TRUE(record.at("upstream_status").is_null());
        EXPECT_TRUE(record.at("upstream_ms").is_null());
        EXPECT_EQ(number(record.at("bytes_in")), 0.0);  // a refused request's body is never read
        EXPECT_EQ(number(record.at("bytes_out")), static_cast<double>(e.response->body.size()));
        EXPECT_GE(number(record.at("duration_ms")), 0.0);
    }
}

TEST(ProxyAudit, ForwardedPostRecordCountsBodyBytesAndUpstreamTiming) {
    Harness h(file_policy());
    const std::string body = R"({"name": "Audited room", "padding": ")" + std::string(3000, 'p') + "\"}";
    const auto r = request(h.port(), "POST", rooms_path() + "?token=tok-in-query&verbose=1", {auth(kKeyFull)}, body);
    ASSERT_EQ(r.status, 201) << r.body;
    const auto records = audit_by_id(h, 1);
    const auto id = r.header("X-Request-Id").value_or("");
    ASSERT_TRUE(records.count(id));
    const auto& record = records.at(id);
    EXPECT_EQ(record.at("client"), json::value("full"));
    EXPECT_EQ(record.at("method"), json::value("POST"));
    EXPECT_EQ(record.at("path"), json::value(rooms_path()));
    EXPECT_EQ(record.at("pattern"), json::value("/api/v5/orgs/<organization_id>/rooms"));
    EXPECT_EQ(record.at("decision"), json::value("allow"));
    EXPECT_EQ(record.at("code"), json::value("ok"));
    EXPECT_EQ(record.at("status"), json::value(201));
    EXPECT_EQ(record.at("upstream_status"), json::value(201));
    EXPECT_EQ(number(record.at("bytes_in")), static_cast<double>(body.size()));
    EXPECT_EQ(number(record.at("bytes_out")), static_cast<double>(r.body.size()));
    ASSERT_TRUE(record.at("upstream_ms").is_number());
    EXPECT_GE(number(record.at("upstream_ms")), 0.0);
    EXPECT_GE(number(record.at("duration_ms")), number(record.at("upstream_ms")));
}

// docs/reference.md §4: client_closed / 499 when the client left before its response. A client that
// closes (FIN) while the upstream is slow gets no answer written, and its record says so.
TEST(ProxyAudit, ClientThatLeftWhileTheUpstreamWasSlowIsRecordedAs499) {
    Harness h(file_policy());
    {
        RawConnection c(h.port());
        c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "delay=300")}));
        std::this_thread::sleep_for(100ms);
    }  // closed before the answer
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    const auto& record = records.front();
    EXPECT_EQ(record.at("code"), json::value("client_closed")) << h.audit_text();
    EXPECT_EQ(record.at("status"), json::value(499));
    EXPECT_EQ(record.at("upstream_status"), json::value(200));  // the upstream did answer
    EXPECT_EQ(number(record.at("bytes_out")), 0.0);
    // A client that stays gets its slow answer.
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "delay=50")});
    EXPECT_EQ(r.status, 200);
    // So does one that pipelined a second request and then half-closed: it waits for both.
    RawConnection c(h.port());
    c.send(raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "delay=100")}) +
           raw_request("GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "delay=100")}));
    c.shutdown_send();
    for (int i = 0; i < 2; ++i) {
        const auto answer = c.read_response(3s);
        ASSERT_TRUE(answer.has_value()) << "answer " << i;
        EXPECT_EQ(answer->status, 200) << "answer " << i;
    }
}

TEST(ProxyAudit, LargeResponseRecordCountsEveryByteSent) {
    Harness h(file_policy());
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "chunked-body-bytes=1000000")});
    ASSERT_EQ(r.status, 200);
    const auto records = audit_by_id(h, 1);
    const auto id = r.header("X-Request-Id").value_or("");
    ASSERT_TRUE(records.count(id));
    EXPECT_EQ(number(records.at(id).at("bytes_out")), 1000000.0);
    EXPECT_EQ(records.at(id).at("upstream_status"), json::value(200));
}

TEST(ProxyAudit, RecordTimestampIsCurrentUtc) {
    Harness h(file_policy());
    const auto before = std::chrono::system_clock::now();
    const auto r = request(h.port(), "GET", kUsersMe, {auth(kKeyFull)});
    const auto records = audit_by_id(h, 1);
    ASSERT_EQ(records.size(), 1u);
    const std::string ts(records.begin()->second.at("ts").as_string());
    std::tm tm{};
    std::istringstream in(ts);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    ASSERT_FALSE(in.fail()) << ts;
    const auto seconds = std::chrono::system_clock::from_time_t(timegm(&tm));
    EXPECT_LE(std::chrono::abs(seconds - before), std::chrono::seconds(5)) << ts;
    (void)r;
}

// =============================================================================================
// Secrets never reach the audit file or the logs.

TEST(ProxySecrets, KeysTokensAndQueryTokensNeverReachAuditOrLogs) {
    const std::string bad_key = "bad-key-secret-5d1c";
    const std::string query_token = "query-token-secret-8e2a";
    const std::string query_key_token = std::string("?token=") + kKeyReports;
    const std::string userinfo_password = "userinfo-password-secret-3f9b";
    {
        Harness h(file_policy());
        const auto port = h.port();
        request(port, "GET", kUsersMe, {auth(kKeyFull)});
        request(port, "GET", kUsersMe, {header("Authorization", "Bearer " + std::string(kKeyReports))});
        request(port, "GET", owned_chats_path(), {auth(kKeyReports)});
        request(port, "GET", "/api/v5/users/me?token=" + query_token + "&x=1", {auth(kKeyFull)});
        request(port, "GET", "/api/v5/users/me" + query_key_token, {});
        request(port, "GET", "/api/v5/no_such_thing?token=" + query_token, {auth(kKeyFull)});
        request(port, "GET", kUsersMe, {header("Authorization", "Token " + bad_key)});
        request(port, "GET", kUsersMe, {header("Authorization", "Basic " + bad_key)});
        request(port, "GET", kUsersMe, {auth(kKeyFull), auth(bad_key)});
        request(port, "GET", kUsersMe, {header("X-Api-Key", kKeyFull)});
        request(port, "POST", rooms_path() + "?token=" + query_token, {auth(kKeyReports)}, "{}");
        request(port, "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "status=500")});
        request(port, "GET", kUsersMe, {auth(kKeyFull), header("X-Mock-Fault", "close")});
        request(port, "GET", "/api/v5/users/%2e%2e/me?token=" + query_token, {auth(kKeyFull)});
        // Absolute form is refused (400); its record keeps the target without the password.
        request(port, "GET", "http://audit-user:" + userinfo_password + "@gw/api/v5/users/me", {auth(kKeyFull)});
        const auto absolute = h.audit_records(15);
        ASSERT_EQ(absolute.size(), 15u);
        EXPECT_EQ(absolute.back().at("path").as_string(), "http://gw/api/v5/users/me");
        // A head that is no request line: its first words ("Token <key>") are not method and path.
        {
            RawConnection c(port);
            c.send("Token " + std::string(kKeyFull) + " and more\r\nHost: gw\r\n\r\n");
            const auto r = c.read_response(2s);
            ASSERT_TRUE(r.has_value());
            EXPECT_EQ(r->status, 400);
        }
        {
            // A Content-Length that overcounts swallows the start of the next pipelined request.
            RawConnection c(port);
            c.send(raw_request("POST", rooms_path(), {auth(kKeyFull), header("Content-Length", "30")}) + "{}" +
                   raw_request("GET", kUsersMe, {header("Authorization", "Token " + std::string(kKeyFull))}));
            const auto first = c.read_response(2s);
            ASSERT_TRUE(first.has_value());
            c.read_response(2s);  // whatever the rest of the second request turned into
        }
        EXPECT_GE(h.mock().request_count(), 5u);
        const auto records = h.audit_records(17);
        EXPECT_GE(records.size(), 17u);
        h.stop();
        const std::string audit = h.audit_text();
        const std::string logs = Harness::log_text();
        for (const auto& secret : {std::string(kUpstreamToken), std::string(kKeyFull), std::string(kKeyReports),
                                   bad_key, query_token, userinfo_password}) {
            EXPECT_EQ(audit.find(secret), std::string::npos) << "audit contains " << secret;
            EXPECT_EQ(logs.find(secret), std::string::npos) << "logs contain " << secret;
        }
        EXPECT_EQ(audit.find("token="), std::string::npos) << "audit contains a query string";
        EXPECT_EQ(audit.find("Token "), std::string::npos) << "audit contains an Authorization value";
    }
}

}  // namespace
}  // namespace giosg::testing
