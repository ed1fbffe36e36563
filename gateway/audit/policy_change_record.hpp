#pragma once
// The `policy_change` audit record (docs/audit.md): one per catalogue change a policy refresh
// found, applied or held (docs/reference.md "Catalogue drift").
#include <chrono>
#include <string>

#include "policy/drift.hpp"

namespace giosg {

/// Appends {"kind":"policy_change","ts":…,"change":"+"|"-"|"~","pattern":…,"method":…,
/// "scopes":[…]|null,"previous_scopes":[…] (for "~" only),"applied":true|false} and '\n'.
void append_policy_change_json(const PolicyChange& change, std::chrono::system_clock::time_point ts, std::string& out);

}  // namespace giosg
