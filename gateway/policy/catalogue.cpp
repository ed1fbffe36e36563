#include "policy/catalogue.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

#include <boost/json.hpp>

namespace giosg {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// url_pattern syntax, shared by the parser (which reports problems), compile and diff.

namespace {

struct PatternSegment {
    std::string_view text;  // the literal, or the placeholder's name without <>
    bool placeholder = false;
};

/// One trailing slash is not part of a pattern's identity ("/a/" is "/a"); "/" stays "/".
std::string_view drop_trailing_slash(std::string_view pattern) {
    if (pattern.size() > 1 && pattern.back() == '/') pattern.remove_suffix(1);
    return pattern;
}

bool is_placeholder_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/// Splits a url_pattern into segments after the leading '/'. Returns an error message (without
/// the JSON path) or "" when the pattern is valid; "/" yields no segments.
std::string split_pattern(std::string_view pattern, std::vector<PatternSegment>& segments) {
    segments.clear();
    if (pattern.empty() || pattern.front() != '/') return "must start with \"/\"";
    if (pattern.find("//") != std::string_view::npos) return "contains an empty segment (\"//\")";
    std::string_view rest = drop_trailing_slash(pattern).substr(1);
    if (rest.empty()) return "";
    while (true) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.find_first_of("<>") == std::string_view::npos) {
            segments.push_back({segment, false});
        } else {
            const bool whole = segment.size() >= 3 && segment.front() == '<' && segment.back() == '>';
            const std::string_view name = whole ? segment.substr(1, segment.size() - 2) : segment;
            if (!whole || !std::all_of(name.begin(), name.end(), is_placeholder_name_char)) {
                return "segment \"" + std::string(segment) +
                       "\": a placeholder must be a whole segment \"<name>\" with name [A-Za-z0-9_]+";
            }
            segments.push_back({name, true});
        }
        if (slash == std::string_view::npos) return "";
        rest.remove_prefix(slash + 1);
    }
}

bool is_method_token(std::string_view name) {
    if (name.empty() || name.front() < 'A' || name.front() > 'Z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::string quoted(std::string_view text) {
    return json::serialize(json::string_view(text.data(), text.size()));
}

// ---------------------------------------------------------------------------------------------
// Parsing

class PageParser {
public:
    CatalogueParseResult run(std::string_view json_text) {
        json::value document;
        if (!parse_document(json_text, document)) return std::move(result_);
        const json::object* top = document.if_object();
        if (top == nullptr) {
            fail("", "expected a JSON object");
            return std::move(result_);
        }
        CataloguePage page;
        if (const json::value* next = top->if_contains("next"); next != nullptr && !next->is_null()) {
            if (const json::string* text = next->if_string()) {
                page.next = std::string(*text);
            } else {
                fail("/next", "expected a string or null");
            }
        }
        const json::value* results = top->if_contains("results");
        if (results == nullptr) {
            fail("/results", "is required");
        } else if (const json::array* array = results->if_array()) {
            page.entries.reserve(array->size());
            for (std::size_t i = 0; i < array->size(); ++i) {
                if (auto entry = parse_entry((*array)[i], "/results/" + std::to_string(i))) {
                    page.entries.push_back(std::move(*entry));
                }
            }
        } else {
            fail("/results", "expected an array");
        }
        if (result_.errors.empty()) result_.page = std::move(page);
        return std::move(result_);
    }

private:
    bool parse_document(std::string_view text, json::value& document) {
        json::stream_parser parser;
        boost::system::error_code ec;
        const std::size_t consumed = parser.write(text.data(), text.size(), ec);
        if (!ec) parser.finish(ec);
        if (ec) {
            fail("", "invalid JSON at byte " + std::to_string(consumed) + ": " + ec.message());
            return false;
        }
        document = parser.release();
        return true;
    }

    std::optional<CatalogueEntry> parse_entry(const json::value& value, const std::string& path) {
        const json::object* object = value.if_object();
        if (object == nullptr) {
            fail(path, "expected an object");
            return std::nullopt;
        }
        const std::size_t errors_before = result_.errors.size();
        CatalogueEntry entry;

        if (const json::string* pattern = required_string(*object, "url_pattern", path)) {
            entry.url_pattern = std::string(*pattern);
            std::vector<PatternSegment> segments;
            if (std::string problem = split_pattern(entry.url_pattern, segments); !problem.empty()) {
                fail(path + "/url_pattern", std::move(problem));
            }
        }

        const json::value* methods = object->if_contains("methods");
        if (methods == nullptr) {
            fail(path + "/methods", "is required");
        } else if (const json::array* array = methods->if_array()) {
            for (std::size_t i = 0; i < array->size(); ++i) {
                const std::string method_path = path + "/methods/" + std::to_string(i);
                auto rule = parse_method((*array)[i], method_path);
                if (!rule) continue;
                const bool duplicate =
                    std::any_of(entry.methods.begin(), entry.methods.end(),
                                [&](const MethodRule& seen) { return seen.name == rule->name; });
                if (duplicate) {
                    fail(method_path + "/name", "duplicate method " + quoted(rule->name));
                    continue;
                }
                entry.methods.push_back(std::move(*rule));
            }
        } else {
            fail(path + "/methods", "expected an array");
        }

        if (const json::value* comment = object->if_contains("comment");
            comment != nullptr && !comment->is_null()) {
            if (const json::string* text = comment->if_string()) {
                entry.comment = std::string(*text);
            } else {
                fail(path + "/comment", "expected a string or null");
            }
        }

        if (result_.errors.size() != errors_before) return std::nullopt;
        return entry;
    }

    std::optional<MethodRule> parse_method(const json::value& value, const std::string& path) {
        const json::object* object = value.if_object();
        if (object == nullptr) {
            fail(path, "expected an object");
            return std::nullopt;
        }
        const std::size_t errors_before = result_.errors.size();
        MethodRule rule;
        if (const json::string* name = required_string(*object, "name", path)) {
            rule.name = std::string(*name);
            if (!is_method_token(rule.name)) {
                fail(path + "/name",
                     "invalid method name " + quoted(rule.name) + " (expected an upper-case token)");
            }
        }
        // A missing scope list is an error rather than "any client": guessing open is unsafe.
        const json::value* scopes = object->if_contains("scopes");
        if (scopes == nullptr) {
            fail(path + "/scopes", "is required");
        } else if (const json::array* array = scopes->if_array()) {
            for (std::size_t i = 0; i < array->size(); ++i) {
                const json::string* scope = (*array)[i].if_string();
                if (scope == nullptr) {
                    fail(path + "/scopes/" + std::to_string(i), "expected a string");
                    continue;
                }
                const std::string_view scope_name(scope->data(), scope->size());
                rule.scopes |= parse_scope(scope_name).value_or(kUnknownScope);
                rule.scope_names.emplace_back(scope_name);
            }
        } else {
            fail(path + "/scopes", "expected an array");
        }
        if (result_.errors.size() != errors_before) return std::nullopt;
        return rule;
    }

    const json::string* required_string(const json::object& object, std::string_view key,
                                        const std::string& path) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr) {
            fail(path + "/" + std::string(key), "is required");
            return nullptr;
        }
        const json::string* text = value->if_string();
        if (text == nullptr) fail(path + "/" + std::string(key), "expected a string");
        return text;
    }

    void fail(std::string path, std::string message) {
        result_.errors.push_back(PathError{std::move(path), std::move(message)});
    }

    CatalogueParseResult result_;
};

// ---------------------------------------------------------------------------------------------
// Serialisation: the layout of Python's json.dumps(indent=2), which is how the bundled snapshot
// was first written, so a refreshed snapshot diffs line by line against the old one.

void write_pretty(const json::value& value, std::string& out, std::size_t depth) {
    const auto newline = [&out](std::size_t level) {
        out += '\n';
        out.append(level * 2, ' ');
    };
    if (const json::object* object = value.if_object()) {
        if (object->empty()) {
            out += "{}";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& member : *object) {
            if (!first) out += ',';
            first = false;
            newline(depth + 1);
            out += json::serialize(member.key());
            out += ": ";
            write_pretty(member.value(), out, depth + 1);
        }
        newline(depth);
        out += '}';
    } else if (const json::array* array = value.if_array()) {
        if (array->empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const json::value& element : *array) {
            if (!first) out += ',';
            first = false;
            newline(depth + 1);
            write_pretty(element, out, depth + 1);
        }
        newline(depth);
        out += ']';
    } else {
        out += json::serialize(value);
    }
}

// ---------------------------------------------------------------------------------------------
// Matching helpers

std::string join_allow(const std::vector<MethodRule>& methods) {
    std::string allow;
    for (const MethodRule& method : methods) {
        if (!allow.empty()) allow += ", ";
        allow += method.name;
    }
    return allow;
}

}  // namespace

CatalogueParseResult parse_catalogue_page(std::string_view json_text) {
    return PageParser{}.run(json_text);
}

std::string serialize_catalogue(const std::vector<CatalogueEntry>& entries) {
    json::array results;
    results.reserve(entries.size());
    for (const CatalogueEntry& entry : entries) {
        json::array methods;
        for (const MethodRule& method : entry.methods) {
            json::array scopes;
            for (const std::string& scope : method.scope_names) scopes.emplace_back(scope);
            methods.emplace_back(json::object{{"name", method.name}, {"scopes", std::move(scopes)}});
        }
        results.emplace_back(json::object{
            {"url_pattern", entry.url_pattern}, {"methods", std::move(methods)}, {"comment", entry.comment}});
    }
    const json::value page =
        json::object{{"next", nullptr}, {"previous", nullptr}, {"results", std::move(results)}};
    std::string out;
    write_pretty(page, out, 0);
    out += '\n';
    return out;
}

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

// ---------------------------------------------------------------------------------------------
// policy diff

namespace {

using MethodKey = std::pair<std::string, std::string>;  // (pattern without trailing slash, method)

/// First occurrence wins, as in PolicyTable::compile's merge.
std::map<MethodKey, const MethodRule*> index_methods(const std::vector<CatalogueEntry>& entries) {
    std::map<MethodKey, const MethodRule*> index;
    for (const CatalogueEntry& entry : entries) {
        const std::string pattern(drop_trailing_slash(entry.url_pattern));
        for (const MethodRule& method : entry.methods)
            index.emplace(MethodKey{pattern, method.name}, &method);
    }
    return index;
}

std::string scope_list(const MethodRule& method) {
    std::string out = "[";
    for (std::size_t i = 0; i < method.scope_names.size(); ++i) {
        if (i != 0) out += ", ";
        out += method.scope_names[i];
    }
    return out + "]";
}

bool same_scopes(const MethodRule& a, const MethodRule& b) {
    std::vector<std::string> left = a.scope_names;
    std::vector<std::string> right = b.scope_names;
    std::sort(left.begin(), left.end());
    std::sort(right.begin(), right.end());
    return left == right;
}

}  // namespace

std::vector<std::string> diff_catalogues(const std::vector<CatalogueEntry>& old_entries,
                                         const std::vector<CatalogueEntry>& new_entries) {
    const auto old_index = index_methods(old_entries);
    const auto new_index = index_methods(new_entries);
    std::vector<std::string> lines;
    const auto line = [](char sign, const MethodKey& key) {
        return std::string(1, sign) + ' ' + key.first + ' ' + key.second + ' ';
    };
    auto old_it = old_index.begin();
    auto new_it = new_index.begin();
    while (old_it != old_index.end() || new_it != new_index.end()) {
        if (new_it == new_index.end() || (old_it != old_index.end() && old_it->first < new_it->first)) {
            lines.push_back(line('-', old_it->first) + scope_list(*old_it->second));
            ++old_it;
        } else if (old_it == old_index.end() || new_it->first < old_it->first) {
            lines.push_back(line('+', new_it->first) + scope_list(*new_it->second));
            ++new_it;
        } else {
            if (!same_scopes(*old_it->second, *new_it->second)) {
                lines.push_back(line('~', old_it->first) + scope_list(*old_it->second) + " -> " +
                                scope_list(*new_it->second));
            }
            ++old_it;
            ++new_it;
        }
    }
    return lines;
}

}  // namespace giosg
