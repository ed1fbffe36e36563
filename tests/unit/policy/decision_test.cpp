// decide(): steps 2 (authenticate) to 6 (scope) of docs/reference.md §3, in that order.
#include "policy/decision.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.hpp"

namespace giosg {
namespace {

constexpr std::string_view kOrgA = "7f9e9580-095b-42c7-838c-c04e667b26f7";
constexpr std::string_view kOrgAUpper = "7F9E9580-095B-42C7-838C-C04E667B26F7";
constexpr std::string_view kOrgB = "0b5c3e52-1f0a-4c1e-9d0e-3a4f5b6c7d8e";
constexpr std::string_view kOrgOther = "11111111-2222-3333-4444-555555555555";

/// A rule as parse_catalogue_page would build it: known names set their bit, others kUnknownScope.
MethodRule rule(std::string name, std::vector<std::string> scope_names = {}) {
    MethodRule result;
    result.name = std::move(name);
    for (const std::string& scope : scope_names) result.scopes |= parse_scope(scope).value_or(kUnknownScope);
    result.scope_names = std::move(scope_names);
    return result;
}

CatalogueEntry entry(std::string pattern, std::vector<MethodRule> methods) {
    CatalogueEntry result;
    result.url_pattern = std::move(pattern);
    result.methods = std::move(methods);
    return result;
}

std::shared_ptr<const PolicyTable> make_policy() {
    return PolicyTable::compile({
        // Organisation-bound, any-of scopes, and an empty-scope method.
        entry("/api/v5/orgs/<organization_id>/rooms",
              {rule("GET", {"settings", "reports"}), rule("POST", {"settings"}), rule("OPTIONS")}),
        // A literal segment where the placeholder sits: wins when the rest matches.
        entry("/api/v5/orgs/shared/templates", {rule("GET", {"settings"})}),
        // Literal-vs-placeholder pair on the last segment.
        entry("/api/v5/users/me", {rule("GET")}),
        entry("/api/v5/users/<user_id>", {rule("GET", {"users"}), rule("DELETE", {"users"})}),
        // Only a scope this gateway does not know: nobody may call it.
        entry("/api/v5/orgs/<organization_id>/archive", {rule("GET", {"chat_archive"})}),
        // A known and an unknown scope: the known one still grants access.
        entry("/api/v5/orgs/<organization_id>/reports", {rule("GET", {"reports", "analytics"})}),
        entry("/api/v5/public/status", {rule("GET"), rule("HEAD")}),
    });
}

ClientConfig make_client(std::string name, std::string_view key, std::vector<std::string> scopes,
                         std::vector<std::string> organizations) {
    ClientConfig client;
    client.name = std::move(name);
    client.key_sha256 = sha256(key);
    client.credential = "acme";
    for (const std::string& scope : scopes) client.scopes |= parse_scope(scope).value();
    client.scope_names = std::move(scopes);
    if (organizations.size() == 1 && organizations[0] == "*") client.all_organizations = true;
    else client.organizations = std::move(organizations);
    return client;
}

ClientTable make_clients() {
    return ClientTable({
        make_client("billing", "billing-key", {"reports"}, {std::string(kOrgA)}),
        make_client("admin", "admin-key", {"settings", "users", "reports"}, {"*"}),
        make_client("support", "support-key", {"settings"}, {std::string(kOrgA), std::string(kOrgB)}),
        make_client("noscope", "noscope-key", {}, {"*"}),
    });
}

std::string org_path(std::string_view org, std::string_view tail) {
    return "/api/v5/orgs/" + std::string(org) + "/" + std::string(tail);
}

class DecisionTest : public ::testing::Test {
protected:
    std::shared_ptr<const PolicyTable> policy_ = make_policy();
    ClientTable clients_ = make_clients();
    std::deque<std::string> paths_;

    /// Decision::organization_id views the request's path, so the fixture keeps every path alive.
    Decision decide_as(std::string_view key, std::string_view method, std::string_view path) {
        const std::string authorization = "Bearer " + std::string(key);
        const std::string& kept = paths_.emplace_back(path);
        return decide(*policy_, clients_, RequestFacts{method, kept, authorization, 1});
    }

    Reason reason_as(std::string_view key, std::string_view method, std::string_view path) {
        return decide_as(key, method, path).reason;
    }

    const Endpoint* endpoint_named(std::string_view pattern) const {
        for (const Endpoint& e : policy_->endpoints())
            if (e.pattern == pattern) return &e;
        return nullptr;
    }
};

// ---------------------------------------------------------------------------------------------
// Every reason decide() can return

TEST_F(DecisionTest, AllowedRequestIsOk) {
    const Decision d = decide_as("billing-key", "GET", org_path(kOrgA, "rooms"));
    EXPECT_EQ(d.reason, Reason::ok);
    EXPECT_TRUE(d.allowed());
}

TEST_F(DecisionTest, MissingAuthorizationIsNotAuthenticated) {
    const std::string path = org_path(kOrgA, "rooms");
    const Decision d = decide(*policy_, clients_, RequestFacts{"GET", path, "", 0});
    EXPECT_EQ(d.reason, Reason::not_authenticated);
    EXPECT_FALSE(d.allowed());
}

TEST_F(DecisionTest, UnknownKeyIsNotAuthenticated) {
    EXPECT_EQ(reason_as("wrong-key", "GET", org_path(kOrgA, "rooms")), Reason::not_authenticated);
}

TEST_F(DecisionTest, TwoAuthorizationHeadersAreNotAuthenticatedEvenWithAValidKey) {
    const std::string path = org_path(kOrgA, "rooms");
    EXPECT_EQ(decide(*policy_, clients_, RequestFacts{"GET", path, "Bearer billing-key", 2}).reason,
              Reason::not_authenticated);
}

TEST_F(DecisionTest, MethodOverrideIsBadRequestAtTheMethodStep) {
    const std::string path = org_path(kOrgA, "rooms");
    RequestFacts facts{"GET", path, "Bearer billing-key", 1};
    facts.method_override = true;
    const Decision d = decide(*policy_, clients_, facts);
    EXPECT_EQ(d.reason, Reason::bad_request);
    EXPECT_NE(d.endpoint, nullptr) << "decided after the match";
    EXPECT_FALSE(d.detail.empty());
    facts.path = "/api/v5/unknown";
    EXPECT_EQ(decide(*policy_, clients_, facts).reason, Reason::unknown_endpoint) << "the match step comes first";
    facts.authorization = "Bearer wrong";
    EXPECT_EQ(decide(*policy_, clients_, facts).reason, Reason::not_authenticated);
}

TEST_F(DecisionTest, HeadIsDecidedWithGetsScopes) {
    EXPECT_EQ(reason_as("billing-key", "HEAD", org_path(kOrgA, "rooms")), reason_as("billing-key", "GET", org_path(kOrgA, "rooms")));
}

TEST_F(DecisionTest, TokenSchemeAuthenticatesLikeBearer) {
    const std::string path = org_path(kOrgA, "rooms");
    const Decision d = decide(*policy_, clients_, RequestFacts{"GET", path, "token billing-key", 1});
    EXPECT_EQ(d.reason, Reason::ok);
}

TEST_F(DecisionTest, UnknownPathIsUnknownEndpoint) {
    EXPECT_EQ(reason_as("admin-key", "GET", "/api/v5/nothing"), Reason::unknown_endpoint);
    EXPECT_EQ(reason_as("admin-key", "GET", "/api/v5/orgs"), Reason::unknown_endpoint);
    EXPECT_EQ(reason_as("admin-key", "GET", org_path(kOrgA, "rooms/extra")), Reason::unknown_endpoint);
}

TEST_F(DecisionTest, MethodNotInCatalogueIsMethodNotAllowed) {
    EXPECT_EQ(reason_as("admin-key", "PATCH", org_path(kOrgA, "rooms")), Reason::method_not_allowed);
    EXPECT_EQ(reason_as("admin-key", "POST", "/api/v5/users/me"), Reason::method_not_allowed);
}

TEST_F(DecisionTest, MethodNameIsCaseSensitive) {
    EXPECT_EQ(reason_as("admin-key", "get", org_path(kOrgA, "rooms")), Reason::method_not_allowed);
}

TEST_F(DecisionTest, OrganizationNotBoundIsOrganizationForbidden) {
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgB, "rooms")), Reason::organization_forbidden);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgOther, "rooms")), Reason::organization_forbidden);
}

TEST_F(DecisionTest, MissingScopeIsInsufficientScope) {
    EXPECT_EQ(reason_as("billing-key", "POST", org_path(kOrgA, "rooms")), Reason::insufficient_scope);
    EXPECT_EQ(reason_as("billing-key", "GET", "/api/v5/users/42"), Reason::insufficient_scope);
}

// ---------------------------------------------------------------------------------------------
// Order of the steps: the first failing one decides

TEST_F(DecisionTest, UnknownKeyOnUnknownPathIsNotAuthenticatedNotUnknownEndpoint) {
    EXPECT_EQ(reason_as("wrong-key", "GET", "/api/v5/nothing"), Reason::not_authenticated);
    const Decision d = decide(*policy_, clients_, RequestFacts{"GET", "/api/v5/nothing", "", 0});
    EXPECT_EQ(d.reason, Reason::not_authenticated);
}

TEST_F(DecisionTest, UnknownKeyWithWrongMethodIsNotAuthenticated) {
    EXPECT_EQ(reason_as("wrong-key", "PATCH", org_path(kOrgOther, "rooms")), Reason::not_authenticated);
}

TEST_F(DecisionTest, UnknownPathIsReportedWhateverTheMethod) {
    // Matching is by path only: an unknown path is 404 whatever method was sent.
    EXPECT_EQ(reason_as("billing-key", "BREW", "/api/v5/nothing"), Reason::unknown_endpoint);
}

TEST_F(DecisionTest, WrongMethodOnForbiddenOrgIsMethodNotAllowedBeforeOrganizationForbidden) {
    EXPECT_EQ(reason_as("billing-key", "PATCH", org_path(kOrgOther, "rooms")), Reason::method_not_allowed);
}

TEST_F(DecisionTest, ForbiddenOrgWithMissingScopeIsOrganizationForbiddenBeforeInsufficientScope) {
    // billing lacks "settings" (POST) and is not bound to kOrgOther: the organisation step comes first.
    EXPECT_EQ(reason_as("billing-key", "POST", org_path(kOrgOther, "rooms")), Reason::organization_forbidden);
    // Same with the unknown-scope method.
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgOther, "archive")), Reason::organization_forbidden);
}

// ---------------------------------------------------------------------------------------------
// Organisation binding

TEST_F(DecisionTest, OrganizationBindingIsCaseSensitive) {
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgA, "rooms")), Reason::ok);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgAUpper, "rooms")), Reason::organization_forbidden);
}

TEST_F(DecisionTest, OrganizationBindingIsExactNotPrefixOrSuffix) {
    const std::string a(kOrgA);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(a.substr(0, 8), "rooms")), Reason::organization_forbidden);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(a.substr(0, a.size() - 1), "rooms")),
              Reason::organization_forbidden);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(a + "0", "rooms")), Reason::organization_forbidden);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path("x" + a, "rooms")), Reason::organization_forbidden);
}

TEST_F(DecisionTest, OrganizationIsComparedAsSentNotDecoded) {
    // "%37" is '7': the decoded id would match, the raw segment does not.
    const std::string encoded = "%37" + std::string(kOrgA).substr(1);
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(encoded, "rooms")), Reason::organization_forbidden);
}

TEST_F(DecisionTest, AnyOfSeveralBoundOrganizationsIsAccepted) {
    EXPECT_EQ(reason_as("support-key", "GET", org_path(kOrgA, "rooms")), Reason::ok);
    EXPECT_EQ(reason_as("support-key", "GET", org_path(kOrgB, "rooms")), Reason::ok);
    EXPECT_EQ(reason_as("support-key", "GET", org_path(kOrgOther, "rooms")), Reason::organization_forbidden);
}

TEST_F(DecisionTest, WildcardOrganizationsAcceptEveryOrganization) {
    EXPECT_EQ(reason_as("admin-key", "GET", org_path(kOrgA, "rooms")), Reason::ok);
    EXPECT_EQ(reason_as("admin-key", "GET", org_path(kOrgOther, "rooms")), Reason::ok);
    EXPECT_EQ(reason_as("admin-key", "POST", org_path("anything-at-all", "rooms")), Reason::ok);
}

TEST_F(DecisionTest, PatternWithoutOrganizationIsNotOrganizationBound) {
    // billing is bound to one org, but these patterns have no <organization_id>.
    EXPECT_EQ(reason_as("billing-key", "GET", "/api/v5/users/me"), Reason::ok);
    EXPECT_EQ(reason_as("billing-key", "GET", "/api/v5/public/status"), Reason::ok);
}

TEST_F(DecisionTest, LiteralSegmentInOrganizationPositionIsNotOrganizationBound) {
    // /orgs/shared/templates is a literal pattern: no organisation check.
    EXPECT_EQ(reason_as("support-key", "GET", "/api/v5/orgs/shared/templates"), Reason::ok);
    // /orgs/shared/rooms backtracks to the placeholder, so "shared" is an organisation id.
    const Decision d = decide_as("support-key", "GET", "/api/v5/orgs/shared/rooms");
    EXPECT_EQ(d.reason, Reason::organization_forbidden);
    EXPECT_EQ(d.organization_id, "shared");
    EXPECT_EQ(reason_as("admin-key", "GET", "/api/v5/orgs/shared/rooms"), Reason::ok);
}

// ---------------------------------------------------------------------------------------------
// Scopes

TEST_F(DecisionTest, ScopesAreAnyOf) {
    // GET rooms needs settings OR reports.
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgA, "rooms")), Reason::ok);  // reports
    EXPECT_EQ(reason_as("support-key", "GET", org_path(kOrgA, "rooms")), Reason::ok);  // settings
    EXPECT_EQ(reason_as("noscope-key", "GET", org_path(kOrgA, "rooms")), Reason::insufficient_scope);
}

TEST_F(DecisionTest, EmptyScopeListAdmitsEveryAuthenticatedClient) {
    for (const std::string_view key : {"billing-key", "admin-key", "support-key", "noscope-key"}) {
        EXPECT_EQ(reason_as(key, "OPTIONS", org_path(kOrgA, "rooms")), Reason::ok) << key;
        EXPECT_EQ(reason_as(key, "GET", "/api/v5/users/me"), Reason::ok) << key;
        EXPECT_EQ(reason_as(key, "HEAD", "/api/v5/public/status"), Reason::ok) << key;
    }
    EXPECT_EQ(reason_as("wrong-key", "GET", "/api/v5/users/me"), Reason::not_authenticated);
}

TEST_F(DecisionTest, MethodRequiringOnlyAnUnknownScopeIsRefusedForEverybody) {
    for (const std::string_view key : {"billing-key", "admin-key", "support-key", "noscope-key"}) {
        EXPECT_EQ(reason_as(key, "GET", org_path(kOrgA, "archive")), Reason::insufficient_scope) << key;
    }
}

TEST_F(DecisionTest, KnownScopeNextToAnUnknownOneStillGrants) {
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgA, "reports")), Reason::ok);
    EXPECT_EQ(reason_as("support-key", "GET", org_path(kOrgA, "reports")), Reason::insufficient_scope);
}

TEST_F(DecisionTest, LiteralBeatsPlaceholderAndEachKeepsItsOwnScopes) {
    // /users/me needs no scope, /users/<user_id> needs "users".
    EXPECT_EQ(reason_as("billing-key", "GET", "/api/v5/users/me"), Reason::ok);
    EXPECT_EQ(reason_as("billing-key", "GET", "/api/v5/users/mE"), Reason::insufficient_scope);
    EXPECT_EQ(reason_as("admin-key", "DELETE", "/api/v5/users/42"), Reason::ok);
    EXPECT_EQ(reason_as("admin-key", "DELETE", "/api/v5/users/me"), Reason::method_not_allowed);
}

TEST_F(DecisionTest, TrailingSlashMatchesTheSameEndpoint) {
    EXPECT_EQ(reason_as("billing-key", "GET", org_path(kOrgA, "rooms/")), Reason::ok);
    const Decision d = decide_as("billing-key", "GET", org_path(kOrgA, "rooms/"));
    EXPECT_EQ(d.organization_id, kOrgA);
}

// ---------------------------------------------------------------------------------------------
// Decision fields

TEST_F(DecisionTest, NotAuthenticatedDecisionCarriesNothing) {
    const Decision d = decide_as("wrong-key", "GET", org_path(kOrgA, "rooms"));
    EXPECT_EQ(d.client, nullptr);
    EXPECT_EQ(d.endpoint, nullptr);
    EXPECT_EQ(d.rule, nullptr);
    EXPECT_TRUE(d.organization_id.empty());
}

TEST_F(DecisionTest, UnknownEndpointDecisionCarriesTheClientOnly) {
    const Decision d = decide_as("support-key", "GET", "/api/v5/nothing");
    ASSERT_NE(d.client, nullptr);
    EXPECT_EQ(d.client->name, "support");
    EXPECT_EQ(d.client_index, 2u);
    EXPECT_EQ(d.endpoint, nullptr);
    EXPECT_EQ(d.rule, nullptr);
    EXPECT_TRUE(d.organization_id.empty());
}

TEST_F(DecisionTest, MethodNotAllowedDecisionCarriesTheEndpointButNoRule) {
    const Decision d = decide_as("billing-key", "PATCH", org_path(kOrgB, "rooms"));
    ASSERT_EQ(d.reason, Reason::method_not_allowed);
    ASSERT_NE(d.endpoint, nullptr);
    EXPECT_EQ(d.endpoint, endpoint_named("/api/v5/orgs/<organization_id>/rooms"));
    EXPECT_EQ(d.endpoint->allow, "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(d.rule, nullptr);
    EXPECT_EQ(d.organization_id, kOrgB);
    ASSERT_NE(d.client, nullptr);
    EXPECT_EQ(d.client->name, "billing");
}

TEST_F(DecisionTest, OrganizationForbiddenDecisionCarriesEndpointRuleAndOrganization) {
    const Decision d = decide_as("billing-key", "POST", org_path(kOrgOther, "rooms"));
    ASSERT_EQ(d.reason, Reason::organization_forbidden);
    EXPECT_EQ(d.endpoint, endpoint_named("/api/v5/orgs/<organization_id>/rooms"));
    ASSERT_NE(d.rule, nullptr);
    EXPECT_EQ(d.rule->name, "POST");
    EXPECT_EQ(d.organization_id, kOrgOther);
}

TEST_F(DecisionTest, AllowedDecisionCarriesEverything) {
    const Decision d = decide_as("support-key", "POST", org_path(kOrgB, "rooms"));
    ASSERT_EQ(d.reason, Reason::ok);
    ASSERT_NE(d.client, nullptr);
    EXPECT_EQ(d.client->name, "support");
    EXPECT_EQ(d.client, &clients_.clients()[2]);
    EXPECT_EQ(d.client_index, 2u);
    ASSERT_NE(d.endpoint, nullptr);
    EXPECT_EQ(d.endpoint->pattern, "/api/v5/orgs/<organization_id>/rooms");
    ASSERT_NE(d.rule, nullptr);
    EXPECT_EQ(d.rule->name, "POST");
    EXPECT_EQ(d.rule->scope_names, std::vector<std::string>{"settings"});
    EXPECT_EQ(d.organization_id, kOrgB);
    // The organisation id is a view into the request's path, not a copy.
    const std::string path = org_path(kOrgB, "rooms");
    const Decision in_place = decide(*policy_, clients_, RequestFacts{"POST", path, "Bearer support-key", 1});
    EXPECT_EQ(in_place.organization_id.data(), path.data() + std::string_view("/api/v5/orgs/").size());
}

TEST_F(DecisionTest, PatternWithoutOrganizationLeavesOrganizationIdEmpty) {
    const Decision d = decide_as("admin-key", "GET", "/api/v5/users/42");
    ASSERT_EQ(d.reason, Reason::ok);
    EXPECT_EQ(d.endpoint, endpoint_named("/api/v5/users/<user_id>"));
    EXPECT_TRUE(d.organization_id.empty());
}

TEST_F(DecisionTest, ClientIndexFollowsConfigOrder) {
    EXPECT_EQ(decide_as("billing-key", "GET", "/api/v5/users/me").client_index, 0u);
    EXPECT_EQ(decide_as("admin-key", "GET", "/api/v5/users/me").client_index, 1u);
    EXPECT_EQ(decide_as("support-key", "GET", "/api/v5/users/me").client_index, 2u);
    EXPECT_EQ(decide_as("noscope-key", "GET", "/api/v5/users/me").client_index, 3u);
}

// ---------------------------------------------------------------------------------------------
// decide_for_client (used by `explain`) agrees with decide

TEST_F(DecisionTest, DecideForClientAgreesWithDecide) {
    const std::vector<std::pair<std::string, std::string>> requests = {
        {"GET", org_path(kOrgA, "rooms")},     {"POST", org_path(kOrgA, "rooms")},
        {"OPTIONS", org_path(kOrgB, "rooms")}, {"PATCH", org_path(kOrgOther, "rooms")},
        {"GET", org_path(kOrgOther, "rooms")}, {"GET", org_path(kOrgAUpper, "rooms")},
        {"GET", org_path(kOrgA, "archive")},   {"GET", org_path(kOrgA, "reports")},
        {"GET", "/api/v5/orgs/shared/templates"}, {"GET", "/api/v5/orgs/shared/rooms"},
        {"GET", "/api/v5/users/me"},           {"GET", "/api/v5/users/42"},
        {"DELETE", "/api/v5/users/me"},        {"GET", "/api/v5/nothing"},
        {"HEAD", "/api/v5/public/status/"},
    };
    int checked = 0;
    for (std::size_t index = 0; index < clients_.clients().size(); ++index) {
        const ClientConfig& client = clients_.clients()[index];
        const std::string authorization = "Bearer " + client.name + "-key";
        for (const auto& [method, path] : requests) {
            SCOPED_TRACE(client.name + " " + method + " " + path);
            const Decision full = decide(*policy_, clients_, RequestFacts{method, path, authorization, 1});
            const Decision direct = decide_for_client(*policy_, client, method, path);
            EXPECT_EQ(direct.reason, full.reason);
            EXPECT_EQ(direct.client, full.client);
            EXPECT_EQ(direct.client, &client);
            EXPECT_EQ(direct.endpoint, full.endpoint);
            EXPECT_EQ(direct.rule, full.rule);
            EXPECT_EQ(direct.organization_id, full.organization_id);
            EXPECT_EQ(full.client_index, index);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 60);
}

TEST_F(DecisionTest, DecideForClientReturnsEveryPolicyReason) {
    const ClientConfig& billing = *clients_.find("billing");
    EXPECT_EQ(decide_for_client(*policy_, billing, "GET", org_path(kOrgA, "rooms")).reason, Reason::ok);
    EXPECT_EQ(decide_for_client(*policy_, billing, "GET", "/api/v5/nothing").reason, Reason::unknown_endpoint);
    EXPECT_EQ(decide_for_client(*policy_, billing, "PUT", org_path(kOrgA, "rooms")).reason,
              Reason::method_not_allowed);
    EXPECT_EQ(decide_for_client(*policy_, billing, "GET", org_path(kOrgB, "rooms")).reason,
              Reason::organization_forbidden);
    EXPECT_EQ(decide_for_client(*policy_, billing, "POST", org_path(kOrgA, "rooms")).reason,
              Reason::insufficient_scope);
}

TEST(DecisionEmptyPolicy, EveryPathIsUnknownForAnAuthenticatedClient) {
    const auto policy = PolicyTable::compile({});
    const ClientTable clients({make_client("billing", "billing-key", {"reports"}, {"*"})});
    EXPECT_EQ(decide(*policy, clients, RequestFacts{"GET", "/api/v5/users/me", "Bearer billing-key", 1}).reason,
              Reason::unknown_endpoint);
    EXPECT_EQ(decide(*policy, clients, RequestFacts{"GET", "/api/v5/users/me", "Bearer other", 1}).reason,
              Reason::not_authenticated);
}

}  // namespace
}  // namespace giosg
