// `policy diff`: comparing two catalogues by (pattern, method).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/catalogue.hpp"

namespace giosg {
namespace {

using Lines = std::vector<std::string>;

struct Method {
    std::string name;
    std::vector<std::string> scopes;
};

CatalogueEntry entry(std::string pattern, const std::vector<Method>& methods) {
    CatalogueEntry result;
    result.url_pattern = std::move(pattern);
    for (const Method& method : methods) {
        MethodRule rule{method.name, 0, method.scopes};
        for (const std::string& scope : method.scopes)
            rule.scopes |= parse_scope(scope).value_or(kUnknownScope);
        result.methods.push_back(std::move(rule));
    }
    return result;
}

std::vector<CatalogueEntry> shipped_catalogue() {
    std::ifstream in(GIOSG_SOURCE_DIR "/policies/giosg-v5-endpoints.json", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    CatalogueParseResult parsed = parse_catalogue_page(text.str());
    EXPECT_TRUE(parsed.page.has_value());
    return parsed.page ? parsed.page->entries : std::vector<CatalogueEntry>{};
}

TEST(PolicyDiff, IdenticalCataloguesHaveNoDifferences) {
    const auto catalogue = shipped_catalogue();
    ASSERT_FALSE(catalogue.empty());
    EXPECT_TRUE(diff_catalogues(catalogue, catalogue).empty());
    EXPECT_TRUE(diff_catalogues({}, {}).empty());
}

TEST(PolicyDiff, AddedMethodIsAPlusLine) {
    const auto before = {entry("/a", {{"GET", {}}})};
    const auto after = {entry("/a", {{"GET", {}}, {"PUT", {"settings", "reports"}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"+ /a PUT [settings, reports]"}));
}

TEST(PolicyDiff, RemovedMethodIsAMinusLine) {
    const auto before = {entry("/a", {{"GET", {}}, {"DELETE", {"settings"}}})};
    const auto after = {entry("/a", {{"GET", {}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"- /a DELETE [settings]"}));
}

TEST(PolicyDiff, ChangedScopesAreATildeLineInCatalogueOrder) {
    const auto before = {entry("/a", {{"GET", {"reports", "settings"}}})};
    const auto after = {entry("/a", {{"GET", {}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"~ /a GET [reports, settings] -> []"}));
    EXPECT_EQ(diff_catalogues(after, before), (Lines{"~ /a GET [] -> [reports, settings]"}));
}

TEST(PolicyDiff, UnknownScopeNamesAreComparedByName) {
    const auto before = {entry("/a", {{"GET", {"billing"}}})};
    const auto after = {entry("/a", {{"GET", {"invoicing"}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"~ /a GET [billing] -> [invoicing]"}));
}

TEST(PolicyDiff, ReorderedScopesAreNotADifference) {
    const auto before = {entry("/a", {{"GET", {"settings", "reports"}}})};
    const auto after = {entry("/a", {{"GET", {"reports", "settings"}}})};
    EXPECT_TRUE(diff_catalogues(before, after).empty());
}

TEST(PolicyDiff, ReorderedEntriesAndMethodsAreNotADifference) {
    const auto before = {entry("/a", {{"GET", {}}, {"PUT", {"users"}}}), entry("/b", {{"GET", {}}})};
    const auto after = {entry("/b", {{"GET", {}}}), entry("/a", {{"PUT", {"users"}}, {"GET", {}}})};
    EXPECT_TRUE(diff_catalogues(before, after).empty());
}

TEST(PolicyDiff, TrailingSlashDoesNotMakeADifferentPattern) {
    const auto before = {entry("/api/v5/users/me/", {{"GET", {}}})};
    const auto after = {entry("/api/v5/users/me", {{"GET", {}}, {"OPTIONS", {}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"+ /api/v5/users/me OPTIONS []"}));
}

TEST(PolicyDiff, LinesAreSortedByPatternThenMethod) {
    const auto before = {entry("/b", {{"GET", {}}, {"POST", {"settings"}}}), entry("/a/<id>", {{"GET", {}}}),
                         entry("/c", {{"GET", {"users"}}})};
    const auto after = {entry("/c", {{"GET", {"reports"}}}), entry("/a", {{"PUT", {}}, {"GET", {}}}),
                        entry("/b", {{"DELETE", {}}, {"GET", {}}})};
    EXPECT_EQ(diff_catalogues(before, after), (Lines{
                                                  "+ /a GET []",
                                                  "+ /a PUT []",
                                                  "- /a/<id> GET []",
                                                  "+ /b DELETE []",
                                                  "- /b POST [settings]",
                                                  "~ /c GET [users] -> [reports]",
                                              }));
}

TEST(PolicyDiff, RemovedEndpointListsEveryMethod) {
    auto after = shipped_catalogue();
    ASSERT_FALSE(after.empty());
    std::vector<CatalogueEntry> before = after;
    before.push_back(entry("/api/v5/orgs/<organization_id>/widgets", {{"GET", {}}, {"OPTIONS", {}}}));
    EXPECT_EQ(diff_catalogues(before, after), (Lines{"- /api/v5/orgs/<organization_id>/widgets GET []",
                                                     "- /api/v5/orgs/<organization_id>/widgets OPTIONS []"}));
}

TEST(PolicyDiff, RepeatedPatternCountsItsFirstMethodOnly) {
    // As PolicyTable::compile merges: the first (pattern, method) wins, later repeats are ignored.
    const auto before = {entry("/a", {{"GET", {"users"}}}),
                         entry("/a/", {{"GET", {"reports"}}, {"PUT", {}}})};
    const auto after = {entry("/a", {{"GET", {"users"}}, {"PUT", {}}})};
    EXPECT_TRUE(diff_catalogues(before, after).empty());
}

}  // namespace
}  // namespace giosg
