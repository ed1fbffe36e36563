#pragma once
// Shared helpers for the micro-benchmarks: the shipped catalogue and a synthetic 10x one.
#include <memory>
#include <string>
#include <vector>

#include "policy/catalogue.hpp"

namespace giosg::bench {

/// The entries of policies/giosg-v5-endpoints.json (aborts when it cannot be read or parsed).
const std::vector<CatalogueEntry>& shipped_catalogue();

/// The shipped catalogue plus 9 renamed copies (about 10x the entries): copy k renames the first
/// segment after /api/v5 ("orgs" -> "orgs_k3"), so the table widens where a growing API would.
const std::vector<CatalogueEntry>& synthetic_catalogue_10x();

/// One concrete path per endpoint of `entries`: every placeholder filled with a UUID.
std::vector<std::string> concrete_paths(const std::vector<CatalogueEntry>& entries);

inline constexpr const char* kOrg = "7f9e9580-095b-42c7-838c-c04e667b26f7";

}  // namespace giosg::bench
