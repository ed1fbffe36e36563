#pragma once
// url_pattern syntax, shared by the catalogue parser (which reports problems), the matcher's
// compile and the diff, so that all three agree on what a pattern is and when two are the same.
#include <string>
#include <string_view>
#include <vector>

namespace giosg {

struct PatternSegment {
    std::string_view text;  // the literal, or the placeholder's name without <>
    bool placeholder = false;
};

/// One trailing slash is not part of a pattern's identity ("/a/" is "/a"); "/" stays "/".
inline std::string_view drop_trailing_slash(std::string_view pattern) {
    if (pattern.size() > 1 && pattern.back() == '/') pattern.remove_suffix(1);
    return pattern;
}

/// Splits a url_pattern into segments after the leading '/'. Returns an error message (without
/// the JSON path) or "" when the pattern is valid; "/" yields no segments.
std::string split_pattern(std::string_view pattern, std::vector<PatternSegment>& segments);

}  // namespace giosg
