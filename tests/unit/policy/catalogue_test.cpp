// Parsing and serialising giosg's endpoint catalogue (`GET /api/v5/endpoints` pages).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/catalogue.hpp"

namespace giosg {
namespace {

const char* const kSnapshotPath = GIOSG_SOURCE_DIR "/policies/giosg-v5-endpoints.json";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A page whose results are `results_json` (the inside of the array).
std::string page(const std::string& results_json) {
    return R"({"next": null, "previous": null, "results": [)" + results_json + "]}";
}

const std::string kValidEntry =
    R"({"url_pattern": "/api/v5/ok", "methods": [{"name": "GET", "scopes": []}]})";

/// Three valid entries, then `entry` at index 3.
std::string page_with_fourth(const std::string& entry) {
    return page(kValidEntry + "," + kValidEntry + "," + kValidEntry + "," + entry);
}

std::vector<std::string> error_lines(const std::string& json_text) {
    const CatalogueParseResult result = parse_catalogue_page(json_text);
    std::vector<std::string> lines;
    for (const PathError& error : result.errors) lines.push_back(error.to_string());
    if (!lines.empty()) {
        EXPECT_FALSE(result.page.has_value());
    }
    return lines;
}

CataloguePage parse_ok(const std::string& json_text) {
    CatalogueParseResult result = parse_catalogue_page(json_text);
    EXPECT_TRUE(result.errors.empty()) << (result.errors.empty() ? "" : result.errors.front().to_string());
    EXPECT_TRUE(result.page.has_value());
    return result.page.value_or(CataloguePage{});
}

using Lines = std::vector<std::string>;

TEST(CatalogueParse, ShippedSnapshotHas106Entries) {
    const std::string text = read_file(kSnapshotPath);
    ASSERT_FALSE(text.empty()) << kSnapshotPath;
    const CataloguePage snapshot = parse_ok(text);
    EXPECT_EQ(snapshot.entries.size(), 106u);
    EXPECT_FALSE(snapshot.next.has_value());
    for (const CatalogueEntry& entry : snapshot.entries) {
        EXPECT_FALSE(entry.methods.empty()) << entry.url_pattern;
        const bool has_options =
            std::any_of(entry.methods.begin(), entry.methods.end(),
                        [](const MethodRule& method) { return method.name == "OPTIONS"; });
        EXPECT_TRUE(has_options) << entry.url_pattern;
        for (const MethodRule& method : entry.methods) {
            EXPECT_EQ(method.scopes & kUnknownScope, 0u) << entry.url_pattern << " " << method.name;
        }
    }
}

TEST(CatalogueParse, ShippedSnapshotIsInSerialisedForm) {
    // `policy fetch` writes serialize_catalogue's layout; keeping the snapshot in it means a
    // refresh shows only real changes.
    const std::string text = read_file(kSnapshotPath);
    EXPECT_EQ(serialize_catalogue(parse_ok(text).entries), text);
}

TEST(CatalogueParse, SeedDocumentExampleKeepsScopesInOrder) {
    const CataloguePage parsed = parse_ok(page(R"({
        "url_pattern": "/api/v5/orgs/<organization_id>/overview",
        "methods": [{"name": "GET", "scopes": ["settings", "reports"]},
                    {"name": "OPTIONS", "scopes": ["settings", "reports"]}],
        "comment": "This API endpoint requires 'settings' permission for unsafe methods."})"));
    ASSERT_EQ(parsed.entries.size(), 1u);
    const CatalogueEntry& entry = parsed.entries[0];
    EXPECT_EQ(entry.url_pattern, "/api/v5/orgs/<organization_id>/overview");
    EXPECT_EQ(entry.comment, "This API endpoint requires 'settings' permission for unsafe methods.");
    ASSERT_EQ(entry.methods.size(), 2u);
    EXPECT_EQ(entry.methods[0].name, "GET");
    EXPECT_EQ(entry.methods[0].scopes, kScopeSettings | kScopeReports);
    EXPECT_EQ(entry.methods[0].scope_names, (Lines{"settings", "reports"}));
    EXPECT_EQ(entry.methods[1].name, "OPTIONS");
}

TEST(CatalogueParse, EmptyScopeListMeansAnyClient) {
    const CataloguePage parsed = parse_ok(page(kValidEntry));
    ASSERT_EQ(parsed.entries.size(), 1u);
    EXPECT_EQ(parsed.entries[0].methods[0].scopes, 0u);
    EXPECT_TRUE(parsed.entries[0].methods[0].scope_names.empty());
    EXPECT_EQ(parsed.entries[0].comment, "");
}

TEST(CatalogueParse, UnknownScopeMapsToUnknownBitAndKeepsItsName) {
    const CataloguePage parsed = parse_ok(page(R"({"url_pattern": "/api/v5/x",
        "methods": [{"name": "GET", "scopes": ["billing"]},
                    {"name": "PUT", "scopes": ["settings", "Reports"]}]})"));
    ASSERT_EQ(parsed.entries.size(), 1u);
    EXPECT_EQ(parsed.entries[0].methods[0].scopes, kUnknownScope);
    EXPECT_EQ(parsed.entries[0].methods[0].scope_names, (Lines{"billing"}));
    // Scope names are case-sensitive: "Reports" is not "reports".
    EXPECT_EQ(parsed.entries[0].methods[1].scopes, kScopeSettings | kUnknownScope);
    EXPECT_EQ(parsed.entries[0].methods[1].scope_names, (Lines{"settings", "Reports"}));
}

TEST(CatalogueParse, NextLinkIsKept) {
    const CataloguePage parsed = parse_ok(R"({"next": "https://service.giosg.com/api/v5/endpoints?cursor=abc",
                                              "previous": null, "results": []})");
    EXPECT_EQ(parsed.next, "https://service.giosg.com/api/v5/endpoints?cursor=abc");
    EXPECT_TRUE(parsed.entries.empty());
}

TEST(CatalogueParse, UnknownExtraKeysAreIgnored) {
    const CataloguePage parsed = parse_ok(R"({"count": 1, "results": [{"url_pattern": "/a", "id": 7,
        "methods": [{"name": "GET", "scopes": [], "deprecated": true}], "comment": null}]})");
    ASSERT_EQ(parsed.entries.size(), 1u);
    EXPECT_EQ(parsed.entries[0].url_pattern, "/a");
    EXPECT_EQ(parsed.entries[0].comment, "");
}

TEST(CatalogueParse, TrailingSlashAndRootPatternsAreValidAndKeptAsWritten) {
    const CataloguePage parsed = parse_ok(page(R"({"url_pattern": "/api/v5/users/me/", "methods": []},
                                                 {"url_pattern": "/", "methods": []})"));
    ASSERT_EQ(parsed.entries.size(), 2u);
    EXPECT_EQ(parsed.entries[0].url_pattern, "/api/v5/users/me/");
    EXPECT_EQ(parsed.entries[1].url_pattern, "/");
}

TEST(CatalogueParseErrors, TopLevelMustBeAnObject) {
    EXPECT_EQ(error_lines("[]"), (Lines{"expected a JSON object"}));
    EXPECT_EQ(error_lines("\"results\""), (Lines{"expected a JSON object"}));
}

TEST(CatalogueParseErrors, InvalidJsonNamesTheByte) {
    const Lines lines = error_lines(R"({"results": [})");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].rfind("invalid JSON at byte 13: ", 0), 0u) << lines[0];
    EXPECT_EQ(error_lines("").size(), 1u);
    EXPECT_EQ(error_lines(R"({"results": []} x)").size(), 1u);
}

TEST(CatalogueParseErrors, ResultsMustBeAnArray) {
    EXPECT_EQ(error_lines(R"({"next": null})"), (Lines{"/results: is required"}));
    EXPECT_EQ(error_lines(R"({"results": {}})"), (Lines{"/results: expected an array"}));
    EXPECT_EQ(error_lines(R"({"next": 3, "results": []})"), (Lines{"/next: expected a string or null"}));
}

TEST(CatalogueParseErrors, EntryMustBeAnObject) {
    EXPECT_EQ(error_lines(page_with_fourth("\"/api/v5/x\"")), (Lines{"/results/3: expected an object"}));
}

TEST(CatalogueParseErrors, MissingUrlPattern) {
    EXPECT_EQ(error_lines(page_with_fourth(R"({"methods": []})")),
              (Lines{"/results/3/url_pattern: is required"}));
    EXPECT_EQ(error_lines(page_with_fourth(R"({"url_pattern": 5, "methods": []})")),
              (Lines{"/results/3/url_pattern: expected a string"}));
}

TEST(CatalogueParseErrors, UrlPatternMustStartWithSlash) {
    EXPECT_EQ(error_lines(page_with_fourth(R"({"url_pattern": "api/v5/x", "methods": []})")),
              (Lines{R"(/results/3/url_pattern: must start with "/")"}));
    EXPECT_EQ(error_lines(page_with_fourth(R"({"url_pattern": "", "methods": []})")),
              (Lines{R"(/results/3/url_pattern: must start with "/")"}));
}

TEST(CatalogueParseErrors, EmptySegmentInPattern) {
    for (const char* pattern : {"/a//b", "//", "/a//"}) {
        EXPECT_EQ(error_lines(page_with_fourth(std::string(R"({"url_pattern": ")") + pattern +
                                               R"(", "methods": []})")),
                  (Lines{R"(/results/3/url_pattern: contains an empty segment ("//"))"}))
            << pattern;
    }
}

TEST(CatalogueParseErrors, BadPlaceholders) {
    for (const char* segment : {"<org-id>", "x<id>", "<id>x", "<>", "<id", "id>", "<a<b>", "<a b>"}) {
        const std::string entry =
            std::string(R"({"url_pattern": "/api/v5/)") + segment + R"(/y", "methods": []})";
        const std::string expected = std::string(R"(/results/3/url_pattern: segment ")") + segment +
                                     R"(": a placeholder must be a whole)"
                                     R"( segment "<name>" with name [A-Za-z0-9_]+)";
        EXPECT_EQ(error_lines(page_with_fourth(entry)), (Lines{expected})) << segment;
    }
    parse_ok(page(R"({"url_pattern": "/a/<Org_ID_2>/b", "methods": []})"));
}

TEST(CatalogueParseErrors, DuplicateMethod) {
    EXPECT_EQ(error_lines(page_with_fourth(R"({"url_pattern": "/a", "methods": [
                  {"name": "GET", "scopes": []}, {"name": "GET", "scopes": ["reports"]}]})")),
              (Lines{R"(/results/3/methods/1/name: duplicate method "GET")"}));
}

TEST(CatalogueParseErrors, MethodNameMustBeAnUpperCaseToken) {
    EXPECT_EQ(
        error_lines(page(R"({"url_pattern": "/a", "methods": [{"name": "get", "scopes": []}]})")),
        (Lines{R"(/results/0/methods/0/name: invalid method name "get" (expected an upper-case token))"}));
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": [{"name": "", "scopes": []}]})")).size(),
              1u);
    EXPECT_EQ(
        error_lines(page(R"({"url_pattern": "/a", "methods": [{"name": "GET ", "scopes": []}]})")).size(),
        1u);
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": [{"scopes": []}]})")),
              (Lines{"/results/0/methods/0/name: is required"}));
    parse_ok(page(R"({"url_pattern": "/a", "methods": [{"name": "M-SEARCH", "scopes": []}]})"));
}

TEST(CatalogueParseErrors, ScopesMustBeAnArrayOfStrings) {
    EXPECT_EQ(error_lines(page_with_fourth(R"({"url_pattern": "/a", "methods": [
                  {"name": "GET", "scopes": []}, {"name": "PUT", "scopes": "settings"}]})")),
              (Lines{"/results/3/methods/1/scopes: expected an array"}));
    EXPECT_EQ(
        error_lines(page(R"({"url_pattern": "/a", "methods": [{"name": "GET", "scopes": ["users", 1]}]})")),
        (Lines{"/results/0/methods/0/scopes/1: expected a string"}));
    // No scope list is not read as "any client": that would open the method up.
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": [{"name": "GET"}]})")),
              (Lines{"/results/0/methods/0/scopes: is required"}));
}

TEST(CatalogueParseErrors, MethodsMustBeAnArrayOfObjects) {
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a"})")), (Lines{"/results/0/methods: is required"}));
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": {"GET": []}})")),
              (Lines{"/results/0/methods: expected an array"}));
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": ["GET"]})")),
              (Lines{"/results/0/methods/0: expected an object"}));
}

TEST(CatalogueParseErrors, CommentMustBeAString) {
    EXPECT_EQ(error_lines(page(R"({"url_pattern": "/a", "methods": [], "comment": 1})")),
              (Lines{"/results/0/comment: expected a string or null"}));
}

TEST(CatalogueParseErrors, EveryProblemIsReportedInDocumentOrder) {
    EXPECT_EQ(
        error_lines(page(R"({"url_pattern": "a", "methods": [{"name": "get", "scopes": [2]}]},
                                 {"methods": []})")),
        (Lines{R"(/results/0/url_pattern: must start with "/")",
               R"(/results/0/methods/0/name: invalid method name "get" (expected an upper-case token))",
               "/results/0/methods/0/scopes/0: expected a string", "/results/1/url_pattern: is required"}));
}

TEST(CatalogueSerialize, EmptyCatalogueLayout) {
    EXPECT_EQ(serialize_catalogue({}), "{\n  \"next\": null,\n  \"previous\": null,\n  \"results\": []\n}\n");
}

TEST(CatalogueSerialize, EntryLayoutIsTwoSpaceIndented) {
    CatalogueEntry entry;
    entry.url_pattern = "/a/<organization_id>";
    entry.methods.push_back(MethodRule{"GET", kScopeReports | kScopeSettings, {"reports", "settings"}});
    entry.methods.push_back(MethodRule{"OPTIONS", 0, {}});
    entry.comment = "c";
    EXPECT_EQ(serialize_catalogue({entry}),
              "{\n"
              "  \"next\": null,\n"
              "  \"previous\": null,\n"
              "  \"results\": [\n"
              "    {\n"
              "      \"url_pattern\": \"/a/<organization_id>\",\n"
              "      \"methods\": [\n"
              "        {\n"
              "          \"name\": \"GET\",\n"
              "          \"scopes\": [\n"
              "            \"reports\",\n"
              "            \"settings\"\n"
              "          ]\n"
              "        },\n"
              "        {\n"
              "          \"name\": \"OPTIONS\",\n"
              "          \"scopes\": []\n"
              "        }\n"
              "      ],\n"
              "      \"comment\": \"c\"\n"
              "    }\n"
              "  ]\n"
              "}\n");
}

void expect_same_entries(const std::vector<CatalogueEntry>& a, const std::vector<CatalogueEntry>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].url_pattern, b[i].url_pattern);
        EXPECT_EQ(a[i].comment, b[i].comment);
        ASSERT_EQ(a[i].methods.size(), b[i].methods.size()) << a[i].url_pattern;
        for (std::size_t m = 0; m < a[i].methods.size(); ++m) {
            EXPECT_EQ(a[i].methods[m].name, b[i].methods[m].name);
            EXPECT_EQ(a[i].methods[m].scopes, b[i].methods[m].scopes);
            EXPECT_EQ(a[i].methods[m].scope_names, b[i].methods[m].scope_names);
        }
    }
}

TEST(CatalogueSerialize, RoundTripKeepsEverything) {
    const CataloguePage original = parse_ok(page(R"(
        {"url_pattern": "/api/v5/orgs/<organization_id>/rooms/",
         "comment": "quote \" backslash \\ tab \t nl \n ctl \u0001 \u00e9 \ud83d\ude00 del \u007f",
         "methods": [{"name": "GET", "scopes": ["reports", "settings", "future_scope"]},
                     {"name": "DELETE", "scopes": []}]},
        {"url_pattern": "/", "methods": []},
        {"url_pattern": "/api/v5/orgs/<organization_id>/rooms",
         "methods": [{"name": "POST", "scopes": ["users"]}]})"));
    const std::string text = serialize_catalogue(original.entries);
    const CataloguePage again = parse_ok(text);
    expect_same_entries(original.entries, again.entries);
    EXPECT_EQ(serialize_catalogue(again.entries), text);
}

TEST(CatalogueSerialize, ShippedSnapshotRoundTrips) {
    const CataloguePage snapshot = parse_ok(read_file(kSnapshotPath));
    expect_same_entries(snapshot.entries, parse_ok(serialize_catalogue(snapshot.entries)).entries);
}

}  // namespace
}  // namespace giosg
