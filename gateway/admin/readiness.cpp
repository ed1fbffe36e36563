#include "admin/readiness.hpp"

#include "audit/writer.hpp"

namespace giosg {

std::vector<std::string> Readiness::reasons() const {
    std::vector<std::string> out;
    if (draining_.load(std::memory_order_acquire)) out.emplace_back("draining");
    if (!policy_loaded_.load(std::memory_order_acquire)) out.emplace_back("policy_not_loaded");
    if (!credentials_loaded_.load(std::memory_order_acquire)) out.emplace_back("credentials_missing");
    if (audit_ != nullptr && !audit_->healthy() && audit_required_.load(std::memory_order_acquire))
        out.emplace_back("audit_unwritable");
    if (audit_ != nullptr && audit_->queue_fill() > kAuditBacklogHighWater) out.emplace_back("audit_backlog");
    return out;
}

}  // namespace giosg
