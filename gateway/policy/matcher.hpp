#pragma once
// The policy table compiled from catalogue entries and the path matcher over it. Compiling happens
// once per load/refresh; the request path only calls PolicyTable::match and Endpoint::find_method
// on const data.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/catalogue_entry.hpp"

namespace giosg {

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

    struct Node;  // defined in matcher.cpp
    PolicyTable();
    ~PolicyTable();
    PolicyTable(const PolicyTable&) = delete;
    PolicyTable& operator=(const PolicyTable&) = delete;

private:
    std::vector<Endpoint> endpoints_;
    std::unique_ptr<Node> root_;
};

}  // namespace giosg
