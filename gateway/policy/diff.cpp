#include "policy/diff.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "policy/url_pattern.hpp"

namespace giosg {

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
