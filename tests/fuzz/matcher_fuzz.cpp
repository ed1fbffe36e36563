// Fuzzes the policy matcher against a naive reference, and the catalogue parser with raw bytes.
//
// The input is read twice:
//  1. as bytes that build a small random catalogue and some request paths (layout below): every
//     path that passes http::parse_target must get the same answer from PolicyTable::match as
//     from the reference matcher here, which reads docs/reference.md §3 step 3 literally;
//  2. as a JSON document for parse_catalogue_page: it must not crash, and when it yields a page,
//     the page keeps the parser's promises and the compiled table agrees with the reference on
//     a path made from each of its patterns (the bundled catalogue is a seed).
//
// Byte layout of (1): [pattern count][per pattern: shape byte (segment count in the low bits,
// 0x80 = trailing slash), methods byte, segment bytes...] then paths [shape byte (0x80 = raw
// bytes of length & 0x3F follow; else segment count in the low bits, 0x40 = trailing slash),
// segment bytes...] until the input ends. Segments come from small alphabets
// that overlap on purpose, so literals, placeholders, shared prefixes and near-miss literals
// (same first eight bytes, other tail: the trie's packed segment keys) meet often.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/target.hpp"
#include "policy/catalogue.hpp"

namespace {

using giosg::fuzz::split;

constexpr std::array<std::string_view, 15> kPatternSegments = {
    "a", "b", "me", "v5", "api", "abcdefgh", "abcdefgh1", "abcdefgh2",
    "7f9e9580-095b-42c7-838c-c04e667b26f7", "%61",
    "<p>", "<q>", "<organization_id>", "<id>", "<organization_id>"};

constexpr std::array<std::string_view, 20> kPathSegments = {
    "a", "b", "me", "v5", "api", "abcdefgh", "abcdefgh1", "abcdefgh2",
    "7f9e9580-095b-42c7-838c-c04e667b26f7", "%61", "x", "A", "abcdefghi", "abcdefgh12",
    "7f9e9580-095b-42c7-838c-c04e667b26f8", "%41", "a.b", "..", ".", "abcdefgh1%2F"};

constexpr std::array<std::string_view, 6> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

class ByteReader {
public:
    explicit ByteReader(std::string_view bytes) noexcept : bytes_(bytes) {}
    [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
    std::uint8_t next() noexcept {
        if (bytes_.empty()) return 0;
        const auto byte = static_cast<std::uint8_t>(bytes_.front());
        bytes_.remove_prefix(1);
        return byte;
    }
    std::string_view take(std::size_t count) noexcept {
        const std::string_view taken = bytes_.substr(0, count);
        bytes_.remove_prefix(taken.size());
        return taken;
    }

private:
    std::string_view bytes_;
};

// ---- The reference matcher ----------------------------------------------------------------

struct RefSegment {
    std::string text;   // literal, or the placeholder's name
    bool placeholder = false;
};

struct RefEndpoint {
    std::string pattern;                 // without one trailing slash ("/" stays "/")
    std::vector<RefSegment> segments;
    std::vector<std::string> methods;    // merged, first occurrence first
};

std::string_view without_trailing_slash(std::string_view text) {
    if (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
    return text;
}

/// Segments after the leading '/', one trailing slash dropped; "/" has none.
std::vector<std::string_view> path_segments(std::string_view path) {
    const std::string_view body = without_trailing_slash(path).substr(1);
    if (body.empty()) return {};
    return split(body, '/');
}

/// Endpoints as docs/reference.md §3 step 3 and PolicyTable::compile describe them: one per pattern
/// (a trailing slash is not part of the identity), in first-seen order, methods merged.
std::vector<RefEndpoint> reference_endpoints(const std::vector<giosg::CatalogueEntry>& entries) {
    std::vector<RefEndpoint> endpoints;
    for (const giosg::CatalogueEntry& entry : entries) {
        const std::string pattern(without_trailing_slash(entry.url_pattern));
        auto same = std::find_if(endpoints.begin(), endpoints.end(),
                                 [&](const RefEndpoint& seen) { return seen.pattern == pattern; });
        if (same == endpoints.end()) {
            RefEndpoint endpoint;
            endpoint.pattern = pattern;
            for (std::string_view segment : path_segments(pattern)) {
                const bool placeholder = segment.size() >= 3 && segment.front() == '<' && segment.back() == '>';
                endpoint.segments.push_back(
                    {std::string(placeholder ? segment.substr(1, segment.size() - 2) : segment), placeholder});
            }
            endpoints.push_back(std::move(endpoint));
            same = std::prev(endpoints.end());
        }
        for (const giosg::MethodRule& method : entry.methods) {
            if (std::find(same->methods.begin(), same->methods.end(), method.name) == same->methods.end())
                same->methods.push_back(method.name);
        }
    }
    // HEAD is allowed wherever GET is (RFC 9110 §9.3.2): right after GET, unless listed already.
    for (RefEndpoint& endpoint : endpoints) {
        auto& methods = endpoint.methods;
        const auto get = std::find(methods.begin(), methods.end(), "GET");
        if (get != methods.end() && std::find(methods.begin(), methods.end(), "HEAD") == methods.end())
            methods.insert(get + 1, "HEAD");
    }
    return endpoints;
}

bool matches(const RefEndpoint& endpoint, const std::vector<std::string_view>& segments) {
    if (endpoint.segments.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const RefSegment& pattern = endpoint.segments[i];
        if (pattern.placeholder ? segments[i].empty() : pattern.text != segments[i]) return false;
    }
    return true;
}

/// Between two patterns that both match a path, the one whose first literal-vs-placeholder
/// difference is the literal wins (a literal wins, with backtracking); with no such difference
/// they differ only in placeholder names and the earlier one wins.
bool more_specific(const RefEndpoint& a, const RefEndpoint& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
        if (a.segments[i].placeholder != b.segments[i].placeholder) return !a.segments[i].placeholder;
    }
    return false;
}

struct RefMatch {
    const RefEndpoint* endpoint = nullptr;
    std::string_view organization_id;
};

RefMatch reference_match(const std::vector<RefEndpoint>& endpoints, std::string_view path) {
    const std::vector<std::string_view> segments = path_segments(path);
    RefMatch best;
    for (const RefEndpoint& endpoint : endpoints) {  // catalogue order: ties keep the first
        if (!matches(endpoint, segments)) continue;
        if (best.endpoint == nullptr || more_specific(endpoint, *best.endpoint)) best.endpoint = &endpoint;
    }
    if (best.endpoint == nullptr) return best;
    for (std::size_t i = 0; i < best.endpoint->segments.size(); ++i) {
        if (best.endpoint->segments[i].placeholder && best.endpoint->segments[i].text == "organization_id") {
            best.organization_id = segments[i];
            break;
        }
    }
    return best;
}

/// PolicyTable::match and the reference agree on `path` (when it is a path the gateway accepts).
void check_match(const giosg::PolicyTable& table, const std::vector<RefEndpoint>& endpoints,
                 std::string_view path) {
    const giosg::http::TargetResult target = giosg::http::parse_target(path);
    if (!target.ok) return;
    path = target.target.path;  // the matcher sees the path without the query
    const giosg::MatchResult got = table.match(path);
    const RefMatch want = reference_match(endpoints, path);
    if (want.endpoint == nullptr) {
        FUZZ_CHECK(got.endpoint == nullptr);
        FUZZ_CHECK(got.organization_id.empty());
        return;
    }
    FUZZ_CHECK(got.endpoint != nullptr);
    FUZZ_CHECK(got.endpoint->pattern == want.endpoint->pattern);
    FUZZ_CHECK(got.organization_id == want.organization_id);
    FUZZ_CHECK(giosg::fuzz::is_inside(got.organization_id, path));
    FUZZ_CHECK(got.endpoint->methods.size() == want.endpoint->methods.size());
    std::string allow;
    for (std::size_t i = 0; i < want.endpoint->methods.size(); ++i) {
        FUZZ_CHECK(got.endpoint->methods[i].name == want.endpoint->methods[i]);
        FUZZ_CHECK(got.endpoint->find_method(want.endpoint->methods[i]) == &got.endpoint->methods[i]);
        allow += (i == 0 ? "" : ", ") + want.endpoint->methods[i];
    }
    FUZZ_CHECK(got.endpoint->allow == allow);
}

// ---- (1) a catalogue and paths built from bytes ------------------------------------------------

void fuzz_built_catalogue(std::string_view bytes) {
    ByteReader reader(bytes);
    std::vector<giosg::CatalogueEntry> entries;
    const std::size_t pattern_count = 1 + reader.next() % 8;
    for (std::size_t p = 0; p < pattern_count; ++p) {
        const std::uint8_t shape = reader.next();
        const std::uint8_t method_bits = reader.next();
        giosg::CatalogueEntry entry;
        const std::size_t segment_count = (shape & 0x3F) % 6;
        for (std::size_t s = 0; s < segment_count; ++s) {
            entry.url_pattern += '/';
            entry.url_pattern += kPatternSegments[reader.next() % kPatternSegments.size()];
        }
        if (entry.url_pattern.empty() || (shape & 0x80) != 0) entry.url_pattern += '/';
        // The methods in an order picked by the bytes: merged duplicates must keep first-seen order.
        for (std::size_t m = 0; m < kMethods.size(); ++m) {
            const std::size_t index = (m + method_bits / 64) % kMethods.size();
            if (((method_bits >> (index % 6)) & 1) != 0) entry.methods.push_back({std::string(kMethods[index]), 0, {}});
        }
        entries.push_back(std::move(entry));
    }
    const auto table = giosg::PolicyTable::compile(entries);
    const std::vector<RefEndpoint> endpoints = reference_endpoints(entries);
    FUZZ_CHECK(table->size() == endpoints.size());

    for (std::size_t p = 0; p < 32 && !reader.empty(); ++p) {
        const std::uint8_t shape = reader.next();
        std::string path;
        if ((shape & 0x80) != 0) {
            path = reader.take(shape & 0x3F);  // raw bytes: parse_target decides what matches
        } else {
            for (std::size_t s = 0; s < (shape & 0x3Fu) % 7; ++s) {
                path += '/';
                path += kPathSegments[reader.next() % kPathSegments.size()];
            }
            if (path.empty() || (shape & 0x40) != 0) path += '/';
        }
        check_match(*table, endpoints, path);
    }
}

// ---- (2) the raw bytes as a catalogue page -----------------------------------------------------

bool is_placeholder_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

void check_page_promises(const giosg::CataloguePage& page) {
    for (const giosg::CatalogueEntry& entry : page.entries) {
        const std::string_view pattern = entry.url_pattern;
        FUZZ_CHECK(!pattern.empty() && pattern.front() == '/');
        FUZZ_CHECK(pattern.find("//") == std::string_view::npos);
        for (std::string_view segment : path_segments(pattern)) {
            if (segment.find_first_of("<>") == std::string_view::npos) continue;
            FUZZ_CHECK(segment.size() >= 3 && segment.front() == '<' && segment.back() == '>');
            FUZZ_CHECK(is_placeholder_name(segment.substr(1, segment.size() - 2)));
        }
        for (std::size_t i = 0; i < entry.methods.size(); ++i) {
            const std::string& name = entry.methods[i].name;
            FUZZ_CHECK(!name.empty() && name.front() >= 'A' && name.front() <= 'Z');
            FUZZ_CHECK(std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            }));
            for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(entry.methods[j].name != name);
        }
    }
}

void fuzz_catalogue_page(std::string_view bytes) {
    const giosg::CatalogueParseResult parsed = giosg::parse_catalogue_page(bytes);
    FUZZ_CHECK(parsed.page.has_value() == parsed.errors.empty());
    for (const giosg::PathError& error : parsed.errors) {
        FUZZ_CHECK(error.path.empty() || error.path.front() == '/');
        FUZZ_CHECK(!error.message.empty());
    }
    if (!parsed.page) return;
    check_page_promises(*parsed.page);

    // Serialising and parsing again gives the same entries (what `policy fetch` relies on).
    const giosg::CatalogueParseResult reparsed =
        giosg::parse_catalogue_page(giosg::serialize_catalogue(parsed.page->entries));
    FUZZ_CHECK(reparsed.page.has_value());
    FUZZ_CHECK(reparsed.page->entries.size() == parsed.page->entries.size());
    for (std::size_t i = 0; i < parsed.page->entries.size(); ++i) {
        const giosg::CatalogueEntry& before = parsed.page->entries[i];
        const giosg::CatalogueEntry& after = reparsed.page->entries[i];
        FUZZ_CHECK(after.url_pattern == before.url_pattern && after.comment == before.comment);
        FUZZ_CHECK(after.methods.size() == before.methods.size());
        for (std::size_t m = 0; m < before.methods.size(); ++m) {
            FUZZ_CHECK(after.methods[m].name == before.methods[m].name);
            FUZZ_CHECK(after.methods[m].scope_names == before.methods[m].scope_names);
            FUZZ_CHECK(after.methods[m].scopes == before.methods[m].scopes);
        }
    }

    const auto table = giosg::PolicyTable::compile(parsed.page->entries);
    const std::vector<RefEndpoint> endpoints = reference_endpoints(parsed.page->entries);
    FUZZ_CHECK(table->size() == endpoints.size());
    for (const RefEndpoint& endpoint : endpoints) {
        // Each pattern with its placeholders filled twice over: with a plain segment, and with
        // one that equals a literal elsewhere in the catalogue ("me"), which must backtrack.
        for (std::string_view filler : {"x", "me"}) {
            std::string path;
            for (const RefSegment& segment : endpoint.segments) {
                path += '/';
                path += segment.placeholder ? std::string(filler) : segment.text;
            }
            if (path.empty()) path = "/";
            check_match(*table, endpoints, path);
            check_match(*table, endpoints, path + "/");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = giosg::fuzz::as_text(data, size);
    fuzz_built_catalogue(bytes);
    fuzz_catalogue_page(bytes);
    return 0;
}
