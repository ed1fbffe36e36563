#include "policy/url_pattern.hpp"

#include <algorithm>

namespace giosg {

namespace {

bool is_placeholder_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

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

}  // namespace giosg
