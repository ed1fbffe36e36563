#pragma once
// `policy diff`: what changed between two catalogues, method by method.
#include <string>
#include <vector>

#include "policy/catalogue_entry.hpp"

namespace giosg {

/// One line per difference, sorted by pattern then method:
/// "+ PATTERN METHOD [a, b]", "- PATTERN METHOD [a]", "~ PATTERN METHOD [old] -> [new]".
std::vector<std::string> diff_catalogues(const std::vector<CatalogueEntry>& old_entries,
                                         const std::vector<CatalogueEntry>& new_entries);

}  // namespace giosg
