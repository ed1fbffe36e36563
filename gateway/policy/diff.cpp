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

// The names decide, except that a rule admitting nobody (names empty, scopes set: see
// catalogue_entry.hpp) differs from one admitting every client.
bool same_scopes(const MethodRule& a, const MethodRule& b) {
    if ((a.scopes == 0) != (b.scopes == 0)) return false;
    std::vector<std::string> left = a.scope_names;
    std::vector<std::string> right = b.scope_names;
    std::sort(left.begin(), left.end());
    std::sort(right.begin(), right.end());
    return left == right;
}

}  // namespace

std::string scope_list(const std::vector<std::string>& scope_names) {
    std::string out = "[";
    for (std::size_t i = 0; i < scope_names.size(); ++i) {
        if (i != 0) out += ", ";
        out += scope_names[i];
    }
    return out + "]";
}

std::vector<MethodDiff> diff_methods(const std::vector<CatalogueEntry>& old_entries,
                                     const std::vector<CatalogueEntry>& new_entries) {
    const auto old_index = index_methods(old_entries);
    const auto new_index = index_methods(new_entries);
    std::vector<MethodDiff> diffs;
    auto old_it = old_index.begin();
    auto new_it = new_index.begin();
    while (old_it != old_index.end() || new_it != new_index.end()) {
        if (new_it == new_index.end() || (old_it != old_index.end() && old_it->first < new_it->first)) {
            diffs.push_back({'-', old_it->first.first, old_it->first.second, old_it->second, nullptr});
            ++old_it;
        } else if (old_it == old_index.end() || new_it->first < old_it->first) {
            diffs.push_back({'+', new_it->first.first, new_it->first.second, nullptr, new_it->second});
            ++new_it;
        } else {
            if (!same_scopes(*old_it->second, *new_it->second))
                diffs.push_back({'~', old_it->first.first, old_it->first.second, old_it->second, new_it->second});
            ++old_it;
            ++new_it;
        }
    }
    return diffs;
}

std::vector<std::string> diff_catalogues(const std::vector<CatalogueEntry>& old_entries,
                                         const std::vector<CatalogueEntry>& new_entries) {
    std::vector<std::string> lines;
    for (const MethodDiff& d : diff_methods(old_entries, new_entries)) {
        std::string line = std::string(1, d.change) + ' ' + d.pattern + ' ' + d.method + ' ';
        if (d.change == '+') {
            line += scope_list(d.after->scope_names);
        } else if (d.change == '-') {
            line += scope_list(d.before->scope_names);
        } else {
            line += scope_list(d.before->scope_names) + " -> " + scope_list(d.after->scope_names);
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

}  // namespace giosg
