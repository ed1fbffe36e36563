// Catalogue drift: which changes of a refreshed catalogue apply under policy.on_widening "apply"
// and "hold", what the table in force becomes, and that a held change is reported only once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "identity/client_table.hpp"
#include "policy/decision.hpp"
#include "policy/drift.hpp"
#include "policy/matcher.hpp"

namespace giosg {
namespace {

using Names = std::vector<std::string>;
using Lines = std::vector<std::string>;

struct Method {
    std::string name;
    Names scopes;
};

CatalogueEntry entry(std::string pattern, const std::vector<Method>& methods) {
    CatalogueEntry result;
    result.url_pattern = std::move(pattern);
    for (const Method& method : methods) {
        MethodRule rule{method.name, 0, method.scopes};
        for (const std::string& scope : method.scopes) rule.scopes |= parse_scope(scope).value_or(kUnknownScope);
        result.methods.push_back(std::move(rule));
    }
    return result;
}

Lines lines(const std::vector<PolicyChange>& changes) {
    Lines out;
    for (const auto& c : changes) out.push_back(c.line());
    return out;
}

ClientConfig client_with(ScopeSet scopes) {
    ClientConfig c;
    c.name = "c";
    c.scopes = scopes;
    c.all_organizations = true;
    return c;
}

// What a client holding `scopes` gets for METHOD PATH under the table compiled from `entries`.
Reason reason_for(const std::vector<CatalogueEntry>& entries, ScopeSet scopes, std::string_view method,
               std::string_view path) {
    const auto table = PolicyTable::compile(entries);
    return decide_for_client(*table, client_with(scopes), method, path).reason;
}

const std::vector<CatalogueEntry> kBefore = {
    entry("/a", {{"GET", {}}, {"PUT", {"settings", "users"}}, {"DELETE", {"settings"}}}),
    entry("/b", {{"GET", {"reports"}}}),
};

TEST(PolicyDrift, ApplyAdoptsEveryChangeAndReportsIt) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {"users"}}, {"PUT", {}}, {"POST", {}}}),
        entry("/c", {{"GET", {}}}),
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::apply);
    EXPECT_EQ(lines(outcome.changes), (Lines{"- /a DELETE [settings]", "~ /a GET [] -> [users]", "+ /a POST []",
                                             "~ /a PUT [settings, users] -> []", "- /b GET [reports]",
                                             "+ /c GET []"}));
    for (const auto& c : outcome.changes) EXPECT_TRUE(c.applied) << c.line();
    EXPECT_EQ(outcome.in_force.size(), live.size());
    EXPECT_EQ(reason_for(outcome.in_force, 0, "GET", "/c"), Reason::ok);
}

TEST(PolicyDrift, HoldAppliesRemovalsAndNewScopesAtOnce) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {"users"}}, {"PUT", {"settings", "users"}}}),  // GET narrowed, DELETE gone
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes),
              (Lines{"- /a DELETE [settings]", "~ /a GET [] -> [users]", "- /b GET [reports]"}));
    for (const auto& c : outcome.changes) EXPECT_TRUE(c.applied) << c.line();
    EXPECT_EQ(reason_for(outcome.in_force, kScopeReports, "GET", "/a"), Reason::insufficient_scope);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeUsers, "GET", "/a"), Reason::ok);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeSettings, "DELETE", "/a"), Reason::method_not_allowed);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeReports, "GET", "/b"), Reason::unknown_endpoint);
}

TEST(PolicyDrift, HoldKeepsNewEndpointsAndMethodsOut) {
    std::vector<CatalogueEntry> live = kBefore;
    live[0].methods.push_back(entry("/a", {{"POST", {}}}).methods[0]);
    live.push_back(entry("/new/<organization_id>", {{"GET", {}}, {"PATCH", {"settings"}}}));
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes), (Lines{"+ /a POST [] (held)", "+ /new/<organization_id> GET [] (held)",
                                             "+ /new/<organization_id> PATCH [settings] (held)"}));
    for (const auto& c : outcome.changes) EXPECT_FALSE(c.applied) << c.line();
    EXPECT_EQ(reason_for(outcome.in_force, kScopeUsers, "POST", "/a"), Reason::method_not_allowed);
    // The whole endpoint is held: unknown (404), not 405 for every method.
    EXPECT_EQ(reason_for(outcome.in_force, kScopeSettings, "GET", "/new/o1"), Reason::unknown_endpoint);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeUsers, "PUT", "/a"), Reason::ok);
}

TEST(PolicyDrift, HoldKeepsScopesOfAMethodWhoseScopesWereEmptied) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {}}, {"PUT", {}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes), (Lines{"~ /a PUT [settings, users] -> [] (held)"}));
    ASSERT_EQ(outcome.changes.size(), 1u);
    EXPECT_FALSE(outcome.changes[0].applied);
    EXPECT_EQ(outcome.changes[0].scopes, Names{});
    EXPECT_EQ(outcome.changes[0].previous_scopes, (Names{"settings", "users"}));
    EXPECT_EQ(reason_for(outcome.in_force, kScopeReports, "PUT", "/a"), Reason::insufficient_scope);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeUsers, "PUT", "/a"), Reason::ok);
}

TEST(PolicyDrift, HoldNarrowsAChangedScopeListToTheIntersection) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {}}, {"PUT", {"users", "reports"}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes), (Lines{"~ /a PUT [settings, users] -> [users, reports] (held; in force: [users])"}));
    ASSERT_EQ(outcome.changes.size(), 1u);
    EXPECT_FALSE(outcome.changes[0].applied);
    // Only clients that could call it both before and after keep access.
    EXPECT_EQ(reason_for(outcome.in_force, kScopeUsers, "PUT", "/a"), Reason::ok);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeSettings, "PUT", "/a"), Reason::insufficient_scope);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeReports, "PUT", "/a"), Reason::insufficient_scope);
}

TEST(PolicyDrift, HoldAppliesAScopeListThatOnlyNarrows) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {}}, {"PUT", {"users"}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes), (Lines{"~ /a PUT [settings, users] -> [users]"}));
    EXPECT_TRUE(outcome.changes.at(0).applied);
    EXPECT_EQ(reason_for(outcome.in_force, kScopeSettings, "PUT", "/a"), Reason::insufficient_scope);
}

TEST(PolicyDrift, AnEmptyIntersectionAdmitsNobody) {
    const std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {}}, {"PUT", {"reports"}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
    };
    const auto outcome = reconcile_catalogue(kBefore, live, OnWidening::hold);
    EXPECT_EQ(lines(outcome.changes), (Lines{"~ /a PUT [settings, users] -> [reports] (held; in force: nobody)"}));
    const ScopeSet all = kScopeSettings | kScopeUsers | kScopeReports;
    EXPECT_EQ(reason_for(outcome.in_force, all, "PUT", "/a"), Reason::insufficient_scope);
    // Nobody is not "any client": a later refresh that empties the list is still a widening.
    const std::vector<CatalogueEntry> emptied = {
        entry("/a", {{"GET", {}}, {"PUT", {}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
    };
    const auto next = reconcile_catalogue(outcome.in_force, emptied, OnWidening::hold);
    ASSERT_EQ(next.changes.size(), 1u);
    EXPECT_FALSE(next.changes[0].applied) << next.changes[0].line();
    EXPECT_EQ(reason_for(next.in_force, all, "PUT", "/a"), Reason::insufficient_scope);
}

TEST(PolicyDrift, AHeldChangeIsReportedOnceAndStaysHeld) {
    std::vector<CatalogueEntry> live = {
        entry("/a", {{"GET", {}}, {"PUT", {"users", "reports"}}, {"DELETE", {"settings"}}}),
        entry("/b", {{"GET", {"reports"}}}),
        entry("/c", {{"GET", {}}}),
    };
    PolicyDrift drift(kBefore, OnWidening::hold);
    const auto first = drift.refresh(live);
    EXPECT_EQ(lines(first), (Lines{"~ /a PUT [settings, users] -> [users, reports] (held; in force: [users])",
                                   "+ /c GET [] (held)"}));
    EXPECT_EQ(drift.held().size(), 2u);
    EXPECT_TRUE(drift.refresh(live).empty()) << "a held change was reported again";
    EXPECT_EQ(lines(drift.held()), lines(first)) << "the held list forgot the list in force before the hold";
    EXPECT_EQ(reason_for(drift.in_force(), kScopeUsers, "PUT", "/a"), Reason::ok);
    EXPECT_EQ(reason_for(drift.in_force(), kScopeReports, "PUT", "/a"), Reason::insufficient_scope);
    EXPECT_EQ(reason_for(drift.in_force(), kScopeUsers, "GET", "/c"), Reason::unknown_endpoint);

    // giosg drops /c again: nothing is held any more, and nothing is reported for it.
    live.pop_back();
    EXPECT_TRUE(drift.refresh(live).empty());
    EXPECT_EQ(drift.held().size(), 1u);

    // The snapshot was updated and reloaded: a new drift state from it holds nothing.
    PolicyDrift accepted(live, OnWidening::hold);
    EXPECT_TRUE(accepted.refresh(live).empty());
    EXPECT_TRUE(accepted.held().empty());
    EXPECT_EQ(reason_for(accepted.in_force(), kScopeReports, "PUT", "/a"), Reason::ok);
}

TEST(PolicyDrift, ApplyModeHoldsNothing) {
    PolicyDrift drift(kBefore, OnWidening::apply);
    const std::vector<CatalogueEntry> live = {entry("/c", {{"GET", {}}})};
    EXPECT_EQ(drift.refresh(live).size(), 5u);
    EXPECT_TRUE(drift.held().empty());
    EXPECT_TRUE(drift.refresh(live).empty());
    EXPECT_EQ(reason_for(drift.in_force(), 0, "GET", "/c"), Reason::ok);
}

TEST(PolicyDrift, TrailingSlashAndReorderingAreNoChange) {
    const std::vector<CatalogueEntry> live = {
        entry("/b/", {{"GET", {"reports"}}}),
        entry("/a", {{"DELETE", {"settings"}}, {"PUT", {"users", "settings"}}, {"GET", {}}}),
    };
    EXPECT_TRUE(reconcile_catalogue(kBefore, live, OnWidening::hold).changes.empty());
}

}  // namespace
}  // namespace giosg
