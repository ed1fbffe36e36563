#pragma once
// One catalogue entry and its method rules: what the parser yields and what the matcher compiles
// and the diff compares. Kept apart so that each of those includes only the data it works on.
#include <string>
#include <vector>

#include "common/scope.hpp"

namespace giosg {

struct MethodRule {
    std::string name;                       // "GET"
    ScopeSet scopes = 0;                    // any-of; 0 = any authenticated client
    std::vector<std::string> scope_names;   // as the catalogue spells them, in order
    // A rule the catalogue drift rule narrowed to an empty intersection (policy/drift.hpp) admits
    // nobody: no names, scopes = kUnknownScope (which no client holds). A catalogue never has one.
    [[nodiscard]] bool admits_nobody() const noexcept { return scope_names.empty() && scopes != 0; }
};

struct CatalogueEntry {
    std::string url_pattern;                // "/api/v5/orgs/<organization_id>/rooms"
    std::vector<MethodRule> methods;        // catalogue order
    std::string comment;
};

}  // namespace giosg
