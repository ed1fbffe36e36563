#include "admin/readiness.hpp"

#include "audit/writer.hpp"

namespace giosg {

void add_audit_not_ready_reasons(const AuditWriter& audit, AuditConfig::OnFailure on_failure,
                                 std::vector<std::string>& reasons) {
    if (audit.queue_fill() > kAuditBacklogHighWater) reasons.emplace_back("audit_backlog");
    if (!audit.healthy() && on_failure == AuditConfig::OnFailure::deny) reasons.emplace_back("audit_unavailable");
}

}  // namespace giosg
