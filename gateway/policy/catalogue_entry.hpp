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
};

struct CatalogueEntry {
    std::string url_pattern;                // "/api/v5/orgs/<organization_id>/rooms"
    std::vector<MethodRule> methods;        // catalogue order
    std::string comment;
};

}  // namespace giosg
