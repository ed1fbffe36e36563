// PolicyTable: compiling the catalogue into a segment trie and matching request paths.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "policy/catalogue.hpp"

// Counts heap allocations so that a test can pin "match does not allocate". Replacing the global
// operator new is allowed once per program; only this file does it.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

namespace giosg {
namespace {

CatalogueEntry entry(std::string pattern, std::vector<std::string> methods = {"GET", "OPTIONS"}) {
    CatalogueEntry result;
    result.url_pattern = std::move(pattern);
    for (std::string& name : methods) result.methods.push_back(MethodRule{std::move(name), 0, {}});
    return result;
}

std::shared_ptr<const PolicyTable> table_of(const std::vector<CatalogueEntry>& entries) {
    return PolicyTable::compile(entries);
}

/// The matched pattern, or "" for an unknown endpoint.
std::string matched(const PolicyTable& table, std::string_view path) {
    const MatchResult result = table.match(path);
    return result.endpoint == nullptr ? "" : result.endpoint->pattern;
}

std::vector<CatalogueEntry> shipped_catalogue() {
    std::ifstream in(GIOSG_SOURCE_DIR "/policies/giosg-v5-endpoints.json", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    CatalogueParseResult parsed = parse_catalogue_page(text.str());
    EXPECT_TRUE(parsed.page.has_value());
    return parsed.page ? parsed.page->entries : std::vector<CatalogueEntry>{};
}

TEST(PolicyMatch, LiteralSegmentWinsOverPlaceholder) {
    const auto table = table_of({entry("/api/v5/users/<user_id>"), entry("/api/v5/users/me")});
    EXPECT_EQ(matched(*table, "/api/v5/users/me"), "/api/v5/users/me");
    EXPECT_EQ(matched(*table, "/api/v5/users/42"), "/api/v5/users/<user_id>");
    EXPECT_EQ(matched(*table, "/api/v5/users/mee"), "/api/v5/users/<user_id>");
}

// docs/reference.md §3 step 3: segments are compared as sent, not decoded. "%6De" is a value for the
// placeholder beside the literal "me" (README "Known limits" says what that means).
TEST(PolicyMatch, EscapedSegmentIsComparedAsSent) {
    const auto table = table_of({entry("/api/v5/users/<user_id>"), entry("/api/v5/users/me")});
    EXPECT_EQ(matched(*table, "/api/v5/users/%6De"), "/api/v5/users/<user_id>");
    EXPECT_EQ(matched(*table, "/api/v5/users/me"), "/api/v5/users/me");
}

TEST(PolicyMatch, BacktracksToPlaceholderWhenLiteralBranchFails) {
    const auto table = table_of({entry("/a/me/x"), entry("/a/<id>/y"), entry("/a/<id>/<sub>/z")});
    EXPECT_EQ(matched(*table, "/a/me/x"), "/a/me/x");
    EXPECT_EQ(matched(*table, "/a/me/y"), "/a/<id>/y");
    EXPECT_EQ(matched(*table, "/a/me/x/z"), "/a/<id>/<sub>/z");
    EXPECT_EQ(matched(*table, "/a/7/x"), "");
}

TEST(PolicyMatch, BacktracksWhenLiteralBranchEndsWithoutAnEndpoint) {
    // "/a/b" is only a prefix of a longer literal pattern; the path must fall back to "/a/<id>".
    const auto table = table_of({entry("/a/b/c"), entry("/a/<id>")});
    EXPECT_EQ(matched(*table, "/a/b"), "/a/<id>");
    EXPECT_EQ(matched(*table, "/a/b/c"), "/a/b/c");
}

TEST(PolicyMatch, OneTrailingSlashIsAccepted) {
    const auto table = table_of({entry("/api/v5/users/me"), entry("/api/v5/orgs/<organization_id>/")});
    EXPECT_EQ(matched(*table, "/api/v5/users/me/"), "/api/v5/users/me");
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1"), "/api/v5/orgs/<organization_id>");
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1/"), "/api/v5/orgs/<organization_id>");
    // parse_target rejects "//" before matching; should one arrive anyway it matches nothing.
    EXPECT_EQ(matched(*table, "/api/v5/users/me//"), "");
    EXPECT_EQ(matched(*table, "/api/v5//users/me"), "");
    EXPECT_EQ(matched(*table, "//api/v5/users/me"), "");
}

TEST(PolicyMatch, RootPathMatchesOnlyARootPattern) {
    const auto without_root = table_of({entry("/<anything>"), entry("/api")});
    EXPECT_EQ(matched(*without_root, "/"), "");
    EXPECT_EQ(matched(*without_root, "//"), "");
    const auto with_root = table_of({entry("/<anything>"), entry("/")});
    EXPECT_EQ(matched(*with_root, "/"), "/");
    EXPECT_EQ(matched(*with_root, "//"), "");
    EXPECT_EQ(matched(*with_root, "/x"), "/<anything>");
}

TEST(PolicyMatch, IsCaseSensitiveAndByteExact) {
    const auto table = table_of({entry("/api/v5/users/me"), entry("/api/v5/rooms/<room_id>")});
    EXPECT_EQ(matched(*table, "/API/v5/users/me"), "");
    EXPECT_EQ(matched(*table, "/api/v5/users/Me"), "");
    EXPECT_EQ(matched(*table, "/api/v5/users/m%65"), "");  // no decoding
    const MatchResult encoded = table->match("/api/v5/rooms/a%20b");
    ASSERT_NE(encoded.endpoint, nullptr);
    EXPECT_EQ(encoded.endpoint->pattern, "/api/v5/rooms/<room_id>");
}

TEST(PolicyMatch, PlaceholderDoesNotMatchAnEmptySegment) {
    const auto table = table_of({entry("/a/<id>"), entry("/b/<id>/c")});
    EXPECT_EQ(matched(*table, "/a/"), "");
    EXPECT_EQ(matched(*table, "/a"), "");
    EXPECT_EQ(matched(*table, "/b//c"), "");
}

TEST(PolicyMatch, ExtraOrMissingSegmentsAreUnknown) {
    const auto table = table_of({entry("/api/v5/orgs/<organization_id>/rooms")});
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1/rooms"), "/api/v5/orgs/<organization_id>/rooms");
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1/rooms/r1"), "");
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1"), "");
    EXPECT_EQ(matched(*table, "/api/v5/orgs"), "");
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1/roomsx"), "");
    EXPECT_EQ(matched(*table, ""), "");
    EXPECT_EQ(matched(*table, "api/v5/orgs/o1/rooms"), "");
}

TEST(PolicyMatch, ExtractsOrganizationIdAsSent) {
    const auto table = table_of({entry("/api/v5/orgs/<organization_id>/rooms/<room_id>"),
                                 entry("/api/v5/public/orgs/<organization_id>/auth"),
                                 entry("/api/v5/orgs/<organization_id>"), entry("/api/v5/users/<user_id>")});
    const MatchResult rooms = table->match("/api/v5/orgs/7F9e-95/rooms/r1");
    ASSERT_NE(rooms.endpoint, nullptr);
    EXPECT_EQ(rooms.endpoint->organization_segment, 3);
    EXPECT_EQ(rooms.organization_id, "7F9e-95");

    const MatchResult auth = table->match("/api/v5/public/orgs/o%2D1/auth/");
    ASSERT_NE(auth.endpoint, nullptr);
    EXPECT_EQ(auth.endpoint->organization_segment, 4);
    EXPECT_EQ(auth.organization_id, "o%2D1");

    const MatchResult org = table->match("/api/v5/orgs/o2/");
    ASSERT_NE(org.endpoint, nullptr);
    EXPECT_EQ(org.organization_id, "o2");

    const MatchResult user = table->match("/api/v5/users/u1");
    ASSERT_NE(user.endpoint, nullptr);
    EXPECT_EQ(user.endpoint->organization_segment, -1);
    EXPECT_TRUE(user.organization_id.empty());
}

TEST(PolicyMatch, FirstOrganizationIdPlaceholderIsTheOrganization) {
    const auto table =
        table_of({entry("/x/<organization_id>/y/<organization_id>"), entry("/z/<organization_idx>")});
    const MatchResult twice = table->match("/x/first/y/second");
    ASSERT_NE(twice.endpoint, nullptr);
    EXPECT_EQ(twice.organization_id, "first");
    const MatchResult similar = table->match("/z/o");
    ASSERT_NE(similar.endpoint, nullptr);
    EXPECT_EQ(similar.endpoint->organization_segment, -1);
}

TEST(PolicyCompile, AllowListsMethodsInCatalogueOrder) {
    const auto table = table_of({entry("/a", {"GET", "PUT", "PATCH", "OPTIONS"}), entry("/b", {})});
    const MatchResult a = table->match("/a");
    ASSERT_NE(a.endpoint, nullptr);
    EXPECT_EQ(a.endpoint->allow, "GET, HEAD, PUT, PATCH, OPTIONS");
    const MatchResult b = table->match("/b");
    ASSERT_NE(b.endpoint, nullptr);
    EXPECT_EQ(b.endpoint->allow, "");
}

TEST(PolicyCompile, HeadIsAllowedWhereverGetIsWithGetsScopes) {
    CatalogueEntry reports = entry("/reports", {"POST", "GET"});
    reports.methods[1].scopes = kScopeReports;
    reports.methods[1].scope_names = {"reports"};
    const auto table = table_of({reports, entry("/write-only", {"POST"})});
    const Endpoint& endpoint = table->endpoints().at(0);
    EXPECT_EQ(endpoint.allow, "POST, GET, HEAD");
    const MethodRule* head = endpoint.find_method("HEAD");
    ASSERT_NE(head, nullptr);
    EXPECT_EQ(head->scopes, kScopeReports);
    EXPECT_EQ(head->scope_names, std::vector<std::string>{"reports"});
    EXPECT_EQ(table->endpoints().at(1).find_method("HEAD"), nullptr) << "no GET, no HEAD";
    EXPECT_EQ(table->endpoints().at(1).allow, "POST");
}

TEST(PolicyCompile, HeadTheCatalogueListsItselfKeepsItsPlaceAndScopes) {
    CatalogueEntry listed = entry("/x", {"HEAD", "GET"});
    listed.methods[0].scopes = kScopeUsers;
    const auto table = table_of({listed});
    const Endpoint& endpoint = table->endpoints().at(0);
    EXPECT_EQ(endpoint.allow, "HEAD, GET");
    EXPECT_EQ(endpoint.find_method("HEAD")->scopes, kScopeUsers);
}

TEST(PolicyCompile, FindMethodIsExactAndCaseSensitive) {
    CatalogueEntry rooms = entry("/rooms", {"GET", "POST"});
    rooms.methods[1].scopes = kScopeSettings;
    rooms.methods[1].scope_names = {"settings"};
    const auto table = table_of({rooms});
    const Endpoint& endpoint = table->endpoints().at(0);
    const MethodRule* post = endpoint.find_method("POST");
    ASSERT_NE(post, nullptr);
    EXPECT_EQ(post->scopes, kScopeSettings);
    EXPECT_NE(endpoint.find_method("GET"), nullptr);
    EXPECT_EQ(endpoint.find_method("get"), nullptr);
    EXPECT_EQ(endpoint.find_method("PATCH"), nullptr);
    EXPECT_EQ(endpoint.find_method("GE"), nullptr);
    EXPECT_EQ(endpoint.find_method(""), nullptr);
}

TEST(PolicyCompile, SamePatternIsMergedIntoTheFirstPosition) {
    CatalogueEntry second = entry("/a/", {"GET", "DELETE"});
    second.methods[0].scope_names = {"users"};
    second.methods[0].scopes = kScopeUsers;
    const auto table = table_of({entry("/a", {"GET", "OPTIONS"}), entry("/b"), second});
    ASSERT_EQ(table->size(), 2u);
    const Endpoint& merged = table->endpoints()[0];
    EXPECT_EQ(merged.pattern, "/a");
    EXPECT_EQ(merged.allow, "GET, HEAD, OPTIONS, DELETE");
    EXPECT_EQ(merged.find_method("GET")->scopes, 0u);  // the first GET is kept
    EXPECT_EQ(table->match("/a/").endpoint, &merged);
    EXPECT_EQ(table->endpoints()[1].pattern, "/b");
}

TEST(PolicyCompile, PatternsDifferingOnlyInPlaceholderNamesKeepTheFirst) {
    const auto table = table_of({entry("/a/<id>", {"GET"}), entry("/a/<organization_id>", {"PUT"})});
    EXPECT_EQ(table->size(), 2u);
    EXPECT_EQ(matched(*table, "/a/1"), "/a/<id>");
}

TEST(PolicyCompile, ShippedCatalogueCompilesAndMatches) {
    const auto table = table_of(shipped_catalogue());
    EXPECT_EQ(table->size(), 106u);
    EXPECT_EQ(matched(*table, "/api/v5/users/me"), "/api/v5/users/me");
    EXPECT_EQ(matched(*table, "/api/v5/users/me/"), "/api/v5/users/me");
    EXPECT_EQ(matched(*table, "/api/v5/users/42/preferences"), "/api/v5/users/<user_id>/preferences");
    const MatchResult overview = table->match("/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/overview");
    ASSERT_NE(overview.endpoint, nullptr);
    EXPECT_EQ(overview.organization_id, "7f9e9580-095b-42c7-838c-c04e667b26f7");
    EXPECT_EQ(overview.endpoint->allow, "GET, HEAD, OPTIONS");
    const MethodRule* get = overview.endpoint->find_method("GET");
    ASSERT_NE(get, nullptr);
    EXPECT_EQ(get->scopes, kScopeSettings | kScopeReports);
    EXPECT_EQ(matched(*table, "/api/v5/orgs/o1/reports/chatstats/rooms/timeseries"),
              "/api/v5/orgs/<organization_id>/reports/chatstats/rooms/timeseries");
    EXPECT_EQ(matched(*table, "/api/v5/nothing"), "");
    EXPECT_EQ(matched(*table, "/api/v4/users/me"), "");
    for (const Endpoint& endpoint : table->endpoints()) {
        EXPECT_EQ(table->match(endpoint.pattern).endpoint, &endpoint) << endpoint.pattern;
    }
}

TEST(PolicyMatch, DoesNotAllocate) {
    const auto table = table_of(shipped_catalogue());
    const std::vector<std::string> paths = {"/api/v5/users/me/",
                                            "/api/v5/orgs/o1/rooms/r1/chats/c1/messages",
                                            "/api/v5/nope/x",
                                            "/api/v5/public/visitors/v1/chat_memberships/c1",
                                            "/",
                                            "/api/v5/orgs/o1/reports/chatstats/rooms/timeseries"};
    std::size_t found = 0;
    const std::size_t before = g_allocations.load();
    for (const std::string& path : paths) found += table->match(path).endpoint != nullptr ? 1 : 0;
    EXPECT_EQ(g_allocations.load(), before);
    EXPECT_EQ(found, 4u);
}

// --- Differential test against a straightforward reference matcher -----------------------------

struct ReferenceEndpoint {
    std::string pattern;                 // trailing slash dropped
    std::vector<std::string> segments;   // "<name>" kept as written
};

bool is_placeholder(const std::string& segment) { return segment.size() >= 3 && segment.front() == '<'; }

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> parts;
    while (true) {
        const std::size_t slash = text.find('/');
        parts.emplace_back(text.substr(0, slash));
        if (slash == std::string_view::npos) return parts;
        text.remove_prefix(slash + 1);
    }
}

/// The contract, spelled out without a trie: a path matches a pattern with as many segments where
/// every literal is equal and every placeholder has a non-empty segment; among all matching
/// patterns, the one whose first differing segment kind is literal wins; of patterns with the
/// same shape, the first in the catalogue.
class ReferenceMatcher {
public:
    explicit ReferenceMatcher(const std::vector<CatalogueEntry>& entries) {
        for (const CatalogueEntry& catalogue_entry : entries) {
            std::string pattern = catalogue_entry.url_pattern;
            if (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
            bool seen = false;
            for (const ReferenceEndpoint& endpoint : endpoints_) seen = seen || endpoint.pattern == pattern;
            if (seen) continue;
            endpoints_.push_back(
                {pattern, pattern == "/" ? std::vector<std::string>{} : split(pattern.substr(1))});
        }
    }

    std::optional<ReferenceEndpoint> match(const std::string& path) const {
        std::string body = path.substr(1);
        if (!body.empty() && body.back() == '/') {
            body.pop_back();
            if (body.empty()) return std::nullopt;
        }
        const std::vector<std::string> segments = body.empty() ? std::vector<std::string>{} : split(body);
        const ReferenceEndpoint* best = nullptr;
        for (const ReferenceEndpoint& candidate : endpoints_) {
            if (!matches(candidate, segments)) continue;
            if (best == nullptr || preferred(candidate, *best)) best = &candidate;
        }
        if (best == nullptr) return std::nullopt;
        return *best;
    }

private:
    static bool matches(const ReferenceEndpoint& endpoint, const std::vector<std::string>& segments) {
        if (endpoint.segments.size() != segments.size()) return false;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            if (is_placeholder(endpoint.segments[i]) ? segments[i].empty()
                                                     : endpoint.segments[i] != segments[i]) {
                return false;
            }
        }
        return true;
    }

    /// Strictly better; ties keep the earlier catalogue entry.
    static bool preferred(const ReferenceEndpoint& a, const ReferenceEndpoint& b) {
        for (std::size_t i = 0; i < a.segments.size(); ++i) {
            const bool a_literal = !is_placeholder(a.segments[i]);
            const bool b_literal = !is_placeholder(b.segments[i]);
            if (a_literal != b_literal) return a_literal;
        }
        return false;
    }

    std::vector<ReferenceEndpoint> endpoints_;
};

std::string reference_organization_id(const ReferenceEndpoint& endpoint, const std::string& path) {
    const std::vector<std::string> segments = split(path.substr(1));
    for (std::size_t i = 0; i < endpoint.segments.size(); ++i) {
        if (endpoint.segments[i] == "<organization_id>") return segments[i];
    }
    return "";
}

TEST(PolicyMatch, AgreesWithReferenceMatcherOnRandomCatalogues) {
    std::mt19937 random(20240611u);
    const std::vector<std::string> pattern_segments = {"a",  "b", "me", "orgs", "<id>", "<organization_id>",
                                                       "<x>"};
    const std::vector<std::string> path_segments = {"a", "b", "me", "orgs", "zz", "A", ""};
    const auto pick = [&random](const std::vector<std::string>& from) {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
    };
    const auto coin = [&random](int percent) {
        return std::uniform_int_distribution<int>(0, 99)(random) < percent;
    };

    std::size_t matched_paths = 0;
    std::size_t placeholder_wins = 0;
    std::size_t checked = 0;
    for (int catalogue_round = 0; catalogue_round < 300; ++catalogue_round) {
        std::vector<CatalogueEntry> entries;
        const int entry_count = std::uniform_int_distribution<int>(1, 25)(random);
        for (int e = 0; e < entry_count; ++e) {
            const int length = std::uniform_int_distribution<int>(0, 5)(random);
            std::string pattern;
            for (int s = 0; s < length; ++s) pattern.append("/").append(pick(pattern_segments));
            if (pattern.empty()) pattern = "/";
            else if (coin(15)) pattern += "/";
            entries.push_back(entry(pattern));
        }
        const auto table = PolicyTable::compile(entries);
        const ReferenceMatcher reference(entries);

        for (int path_round = 0; path_round < 200; ++path_round) {
            std::string path;
            if (coin(60)) {
                // Instantiate a catalogue pattern, so that most paths hit something.
                const std::string& pattern = entries[static_cast<std::size_t>(
                    std::uniform_int_distribution<int>(0, entry_count - 1)(random))].url_pattern;
                for (const std::string& segment : split(pattern.substr(1))) {
                    if (segment.empty()) continue;
                    path.append("/").append(is_placeholder(segment) ? pick(path_segments) : segment);
                }
            } else {
                const int length = std::uniform_int_distribution<int>(0, 6)(random);
                for (int s = 0; s < length; ++s) path.append("/").append(pick(path_segments));
            }
            if (path.empty()) path = "/";
            if (coin(20)) path += "/";

            const MatchResult actual = table->match(path);
            const std::optional<ReferenceEndpoint> expected = reference.match(path);
            ++checked;
            ASSERT_EQ(actual.endpoint != nullptr, expected.has_value()) << "path " << path;
            if (!expected) continue;
            ++matched_paths;
            ASSERT_EQ(actual.endpoint->pattern, expected->pattern) << "path " << path;
            ASSERT_EQ(std::string(actual.organization_id), reference_organization_id(*expected, path))
                << "path " << path;
            if (expected->pattern.find('<') != std::string::npos) ++placeholder_wins;
        }
    }
    EXPECT_EQ(checked, 300u * 200u);
    // The generator must actually exercise matches, not just misses.
    EXPECT_GT(matched_paths, checked / 4);
    EXPECT_GT(placeholder_wins, checked / 10);
}

}  // namespace
}  // namespace giosg
