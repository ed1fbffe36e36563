#pragma once
// giosg's endpoint catalogue (the `GET /api/v5/endpoints` shape) and the policy table compiled
// from it. Parsing happens once per load/refresh; the request path only calls PolicyTable::match
// and Endpoint::find_method on const data.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/path_error.hpp"
#include "common/scope.hpp"

namespace giosg {

struct MethodRule {
    std::string name;                       // "GET"
    ScopeSet scopes = 0;                    // any-of; 0 = any authenticated client
    std::vector<std::string> scope_names;   // as the catalogue spells them, in order
};

struct CatalogueEntry {
    std::string url_pattern;                // "/api/v5/orgs/<organization_id>/rooms"
    std::vector<MethodRule> methods;        // catalogue order
    std::string comment;
};

/// One page or a whole catalogue: entries in catalogue order plus the page's `next` link.
struct CataloguePage {
    std::vector<CatalogueEntry> entries;
    std::optional<std::string> next;        // absolute URL or null
};

struct CatalogueParseResult {
    std::optional<CataloguePage> page;
    std::vector<PathError> errors;          // JSON paths such as "/results/3/methods/0/name"
};

/// Parses one `{"next":…, "previous":…, "results":[…]}` document. Strict about what the gateway
/// relies on (url_pattern starting with '/', placeholders `<name>` filling a whole segment,
/// method names as upper-case tokens, scopes as strings, no duplicate method in an entry);
/// unknown extra keys are ignored (giosg may add fields). Unknown scope names map to kUnknownScope.
CatalogueParseResult parse_catalogue_page(std::string_view json_text);

/// Serialises entries as one page with next/previous null: the shape `policy fetch` writes and
/// the bundled snapshot uses (pretty-printed, 2-space indent, trailing newline).
std::string serialize_catalogue(const std::vector<CatalogueEntry>& entries);

/// A compiled endpoint: what a match yields.
struct Endpoint {
    std::string pattern;
    std::vector<MethodRule> methods;        // catalogue order
    std::string allow;                      // "GET, PUT, OPTIONS" (catalogue order, one line)
    int organization_segment = -1;          // index into the path's segments of <organization_id>

    [[nodiscard]] const MethodRule* find_method(std::string_view method) const noexcept;
};

struct MatchResult {
    const Endpoint* endpoint = nullptr;     // null: unknown endpoint
    std::string_view organization_id;       // the segment as sent, when the pattern has one
};

/// Segment trie over url_patterns. `<name>` matches exactly one non-empty segment; a literal
/// segment wins over a placeholder, backtracking to the placeholder when the literal branch cannot
/// match the rest; one trailing slash is accepted; matching is on raw bytes, case-sensitive.
class PolicyTable {
public:
    /// Compiles entries; two entries with the same pattern (after dropping a trailing slash) are
    /// merged into the first's position with methods appended (duplicates ignored).
    static std::shared_ptr<const PolicyTable> compile(const std::vector<CatalogueEntry>& entries);

    /// `path` must already have passed http::parse_target (starts with '/', no empty segment
    /// except one trailing slash). No allocation.
    [[nodiscard]] MatchResult match(std::string_view path) const noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return endpoints_.size(); }
    [[nodiscard]] const std::vector<Endpoint>& endpoints() const noexcept { return endpoints_; }

    struct Node;  // defined in catalogue.cpp
    PolicyTable();
    ~PolicyTable();
    PolicyTable(const PolicyTable&) = delete;
    PolicyTable& operator=(const PolicyTable&) = delete;

private:
    std::vector<Endpoint> endpoints_;
    std::unique_ptr<Node> root_;
};

/// `policy diff`: one line per difference, sorted by pattern then method:
/// "+ PATTERN METHOD [a, b]", "- PATTERN METHOD [a]", "~ PATTERN METHOD [old] -> [new]".
std::vector<std::string> diff_catalogues(const std::vector<CatalogueEntry>& old_entries,
                                         const std::vector<CatalogueEntry>& new_entries);

}  // namespace giosg
