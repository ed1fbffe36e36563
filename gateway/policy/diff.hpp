#pragma once
// What changed between two catalogues, method by method: the structured diff the catalogue drift
// rule (policy/drift.hpp) works on, and the text lines `policy diff` prints.
#include <string>
#include <vector>

#include "policy/catalogue_entry.hpp"

namespace giosg {

/// One (pattern, method) that differs. The rules point into the catalogues that were compared.
struct MethodDiff {
    char change = '~';                  // '+' added, '-' removed, '~' scopes changed
    std::string pattern;                // without a trailing slash
    std::string method;
    const MethodRule* before = nullptr; // null for '+'
    const MethodRule* after = nullptr;  // null for '-'
};

/// Sorted by pattern then method. Patterns are compared without a trailing slash; within one
/// catalogue the first occurrence of a (pattern, method) wins, as in PolicyTable::compile.
/// Scope lists are compared as sets.
std::vector<MethodDiff> diff_methods(const std::vector<CatalogueEntry>& old_entries,
                                     const std::vector<CatalogueEntry>& new_entries);

/// "[a, b]"
std::string scope_list(const std::vector<std::string>& scope_names);

/// One line per difference, in diff_methods order:
/// "+ PATTERN METHOD [a, b]", "- PATTERN METHOD [a]", "~ PATTERN METHOD [old] -> [new]".
std::vector<std::string> diff_catalogues(const std::vector<CatalogueEntry>& old_entries,
                                         const std::vector<CatalogueEntry>& new_entries);

}  // namespace giosg
