#include "policy/matcher.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <utility>

#include "policy/url_pattern.hpp"

namespace giosg {

namespace {

// RFC 9110 §9.3.2: HEAD is GET without the body, so wherever the catalogue lists GET, HEAD is
// allowed with GET's scopes, right after it in Allow. A HEAD the catalogue lists itself stays.
void add_head_after_get(std::vector<MethodRule>& methods) {
    const auto listed = [&methods](std::string_view name) {
        return std::find_if(methods.begin(), methods.end(), [name](const MethodRule& m) { return m.name == name; });
    };
    const auto get = listed("GET");
    if (get == methods.end() || listed("HEAD") != methods.end()) return;
    MethodRule head = *get;
    head.name = "HEAD";
    methods.insert(get + 1, std::move(head));
}

std::string join_allow(const std::vector<MethodRule>& methods) {
    std::string allow;
    for (const MethodRule& method : methods) {
        if (!allow.empty()) allow += ", ";
        allow += method.name;
    }
    return allow;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Endpoint / PolicyTable

const MethodRule* Endpoint::find_method(std::string_view method) const noexcept {
    for (const MethodRule& rule : methods) {
        if (rule.name == method) return &rule;
    }
    return nullptr;
}

namespace {

/// A segment's length and first eight bytes (zero-padded): equal keys and equal tails mean equal
/// segments, and most literals ("rooms", "users", "v5") are decided by the key alone.
struct SegmentKey {
    std::uint64_t head = 0;
    std::size_t length = 0;

    explicit SegmentKey(std::string_view segment) noexcept : length(segment.size()) {
        if (segment.size() >= sizeof head) {
            std::memcpy(&head, segment.data(), sizeof head);
        } else {
            for (std::size_t i = 0; i < segment.size(); ++i) {
                head |= std::uint64_t{static_cast<unsigned char>(segment[i])} << (8 * i);
            }
        }
    }
    bool operator==(const SegmentKey&) const noexcept = default;
};

}  // namespace

struct PolicyTable::Node {
    struct Literal {
        std::string text;
        std::unique_ptr<Node> child;
    };
    // A node has at most a few dozen literal children; a linear scan over their packed keys is
    // faster than a binary search of string comparisons. keys[i] belongs to literals[i].
    std::vector<SegmentKey> keys;
    std::vector<Literal> literals;
    std::unique_ptr<Node> placeholder;
    int endpoint = -1;  // index into endpoints_ when a pattern ends here

    const Node* literal_child(std::string_view segment) const noexcept {
        if (keys.empty()) return nullptr;
        const SegmentKey key(segment);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key && same_tail(literals[i].text, segment)) return literals[i].child.get();
        }
        return nullptr;
    }

    Node& add_literal(std::string_view segment) {
        for (Literal& literal : literals) {
            if (literal.text == segment) return *literal.child;
        }
        keys.emplace_back(segment);
        return *literals.emplace_back(Literal{std::string(segment), std::make_unique<Node>()}).child;
    }

    Node& add_placeholder() {
        if (!placeholder) placeholder = std::make_unique<Node>();
        return *placeholder;
    }

private:
    /// The bytes after the key's eight; the lengths are known to be equal. An inline loop, as
    /// the tails are short and a memcmp call per candidate would cost more than the compare.
    static bool same_tail(std::string_view literal, std::string_view segment) noexcept {
        for (std::size_t i = sizeof(SegmentKey::head); i < segment.size(); ++i) {
            if (literal[i] != segment[i]) return false;
        }
        return true;
    }
};

PolicyTable::PolicyTable() : root_(std::make_unique<Node>()) {}
PolicyTable::~PolicyTable() = default;

std::shared_ptr<const PolicyTable> PolicyTable::compile(const std::vector<CatalogueEntry>& entries) {
    auto table = std::make_shared<PolicyTable>();
    std::map<std::string_view, std::size_t> by_pattern;  // views into the entries
    std::vector<PatternSegment> segments;
    std::vector<std::vector<PatternSegment>> endpoint_segments;

    for (const CatalogueEntry& entry : entries) {
        // parse_catalogue_page rejects these; a hand-built invalid entry can match nothing.
        if (!split_pattern(entry.url_pattern, segments).empty()) continue;
        const std::string_view pattern = drop_trailing_slash(entry.url_pattern);
        if (auto seen = by_pattern.find(pattern); seen != by_pattern.end()) {
            Endpoint& merged = table->endpoints_[seen->second];
            for (const MethodRule& method : entry.methods) {
                if (merged.find_method(method.name) == nullptr) merged.methods.push_back(method);
            }
            continue;
        }
        by_pattern.emplace(pattern, table->endpoints_.size());
        Endpoint endpoint;
        endpoint.pattern = std::string(pattern);
        endpoint.methods = entry.methods;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            if (segments[i].placeholder && segments[i].text == "organization_id") {
                endpoint.organization_segment = static_cast<int>(i);
                break;
            }
        }
        table->endpoints_.push_back(std::move(endpoint));
        endpoint_segments.push_back(segments);
    }

    for (std::size_t index = 0; index < table->endpoints_.size(); ++index) {
        Endpoint& endpoint = table->endpoints_[index];
        add_head_after_get(endpoint.methods);
        endpoint.allow = join_allow(endpoint.methods);
        Node* node = table->root_.get();
        for (const PatternSegment& segment : endpoint_segments[index]) {
            node = segment.placeholder ? &node->add_placeholder() : &node->add_literal(segment.text);
        }
        // Patterns that differ only in placeholder names share a node; the first one keeps it.
        if (node->endpoint < 0) node->endpoint = static_cast<int>(index);
    }
    return table;
}

namespace {

/// Bytes up to the next '/' (or the end). Organisation ids are 36-byte UUIDs, so this looks at
/// eight bytes per step (the classic "has zero byte" bit trick on bytes XOR '/').
std::size_t segment_length(std::string_view rest) noexcept {
    std::size_t length = 0;
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t kOnes = 0x0101010101010101u;
        constexpr std::uint64_t kHighBits = 0x8080808080808080u;
        constexpr std::uint64_t kSlashes = kOnes * static_cast<unsigned char>('/');
        for (; length + 8 <= rest.size(); length += 8) {
            std::uint64_t word;
            std::memcpy(&word, rest.data() + length, sizeof word);
            word ^= kSlashes;
            // Exact for the lowest zero byte, which is the only one used.
            if (const std::uint64_t zero_bytes = (word - kOnes) & ~word & kHighBits; zero_bytes != 0) {
                return length + static_cast<std::size_t>(std::countr_zero(zero_bytes) / 8);
            }
        }
    }
    while (length < rest.size() && rest[length] != '/') ++length;
    return length;
}

/// The `index`-th segment of `path` (after the leading '/'); `path` starts with '/'.
std::string_view path_segment(std::string_view path, int index) noexcept {
    std::string_view rest = path.substr(1);
    for (int i = 0; i < index && !rest.empty(); ++i) {
        const std::size_t length = segment_length(rest);
        rest.remove_prefix(length == rest.size() ? length : length + 1);
    }
    return rest.substr(0, segment_length(rest));
}

/// Depth-first over the remaining segments of `rest` (no leading '/'); `at_end` means no segment
/// is left. A literal child is tried first; if it cannot match the rest, the placeholder is.
/// At most two branches per segment and no deeper than the longest pattern (under ten segments
/// in giosg's catalogue), so the backtracking stays small.
int find_endpoint(const PolicyTable::Node& node, std::string_view rest, bool at_end) noexcept {
    if (at_end) return node.endpoint;
    const std::size_t length = segment_length(rest);
    const std::string_view segment(rest.data(), length);
    const bool last = length == rest.size();
    const std::string_view next =
        last ? std::string_view{} : std::string_view(rest.data() + length + 1, rest.size() - length - 1);
    if (const PolicyTable::Node* literal = node.literal_child(segment)) {
        if (const int found = find_endpoint(*literal, next, last); found >= 0) return found;
    }
    if (node.placeholder && !segment.empty()) return find_endpoint(*node.placeholder, next, last);
    return -1;
}

}  // namespace

MatchResult PolicyTable::match(std::string_view path) const noexcept {
    MatchResult result;
    if (path.empty() || path.front() != '/') return result;
    std::string_view body = path.substr(1);
    if (!body.empty() && body.back() == '/') {
        body.remove_suffix(1);
        if (body.empty()) return result;  // "//": an empty segment, never the root
    }
    const int index = find_endpoint(*root_, body, body.empty());
    if (index < 0) return result;
    result.endpoint = &endpoints_[static_cast<std::size_t>(index)];
    if (result.endpoint->organization_segment >= 0) {
        result.organization_id = path_segment(path, result.endpoint->organization_segment);
    }
    return result;
}

}  // namespace giosg
