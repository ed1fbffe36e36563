#include "server/policy_refresh.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "admin/metrics.hpp"
#include "audit/policy_change_record.hpp"
#include "audit/writer.hpp"

namespace giosg::server {

void report_policy_changes(const std::vector<PolicyChange>& changes, std::size_t held, ChangeSinks sinks) {
    std::string line;
    for (const PolicyChange& change : changes) {
        // A catalogue change alters who may call what: worth a warning whether it applied or not.
        spdlog::warn("policy change {}: {}", change.applied ? "applied" : "held", change.line());
        sinks.metrics.policy_changes.count(change);
        line.clear();
        append_policy_change_json(change, std::chrono::system_clock::now(), line);
        sinks.audit.submit(sinks.ring, line);
    }
    sinks.metrics.policy_changes.set_held(held);
    if (!changes.empty() && held != 0) {
        spdlog::warn("{} catalogue change(s) held: review them with `giosg-gateway policy diff`, update the policy "
                     "snapshot file and reload to accept them",
                     held);
    }
}

}  // namespace giosg::server
