#pragma once
// What /readyz reports (docs/reference.md §5 "Admin listener"): ready only while a policy table
// and every referenced credential are loaded, the audit trail can be written (or
// audit.on_failure is "allow"), its queue is below the high-water mark, and the gateway is not
// draining. Set by the main thread, read by the admin thread: plain atomics.
#include <atomic>
#include <string>
#include <vector>

namespace giosg {

class AuditWriter;

/// The fullest audit ring above this share of its bound (slots or bytes, reservations
/// included) makes /readyz say "audit_backlog": a load balancer then sends traffic elsewhere
/// before workers have to wait for room or refuse (docs/audit.md, under load).
inline constexpr double kAuditBacklogHighWater = 0.75;

class Readiness {
public:
    void attach_audit(const AuditWriter* audit) noexcept { audit_ = audit; }
    void set_draining() noexcept { draining_.store(true, std::memory_order_release); }
    void set_policy_loaded(bool loaded) noexcept { policy_loaded_.store(loaded, std::memory_order_release); }
    void set_credentials_loaded(bool loaded) noexcept { credentials_loaded_.store(loaded, std::memory_order_release); }
    /// audit.on_failure "deny": an audit trail that cannot be written makes the gateway unready.
    void set_audit_required(bool required) noexcept { audit_required_.store(required, std::memory_order_release); }

    /// Why the gateway is not ready, in a fixed order ("draining", "policy_not_loaded",
    /// "credentials_missing", "audit_unwritable", "audit_backlog"); empty when it is.
    [[nodiscard]] std::vector<std::string> reasons() const;

private:
    const AuditWriter* audit_ = nullptr;
    std::atomic<bool> draining_{false};
    std::atomic<bool> policy_loaded_{false};
    std::atomic<bool> credentials_loaded_{false};
    std::atomic<bool> audit_required_{true};
};

}  // namespace giosg
