#pragma once
// What /readyz says about the audit trail (docs/reference.md "Admin listener"): the reasons the
// gateway should not be sent more traffic now. Read on the admin thread from the writer's atomics.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace giosg {

class AuditWriter;

/// The fullest audit ring above this share of its bound (slots or bytes, reservations
/// included) makes /readyz say "audit_backlog": a load balancer then sends traffic elsewhere
/// before workers have to wait for room or refuse.
inline constexpr double kAuditBacklogHighWater = 0.75;

/// Appends "audit_backlog" (queue above the high-water mark) and, under on_failure "deny",
/// "audit_unavailable" (records cannot be written).
void add_audit_not_ready_reasons(const AuditWriter& audit, AuditConfig::OnFailure on_failure,
                                 std::vector<std::string>& reasons);

}  // namespace giosg
