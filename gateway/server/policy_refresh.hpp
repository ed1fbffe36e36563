#pragma once
// Reporting what a policy refresh found (docs/reference.md "Catalogue drift"): the drift rule
// (policy/drift.hpp) decides what applies; this logs, counts and audits every change. The
// refresh itself runs on the main thread with the live config (cli/live_config.hpp).
#include <vector>

#include "policy/drift.hpp"

namespace giosg {

class AuditRing;
class AuditWriter;
class Metrics;

namespace server {

/// Where reported changes go: a log line each, the metrics, and a `policy_change` audit record
/// each through `ring` (a producer ring of its own, used from one thread only).
struct ChangeSinks {
    Metrics& metrics;
    AuditWriter& audit;
    AuditRing& ring;
};

/// Logs, counts and audits `changes`; sets the held gauge to `held`.
void report_policy_changes(const std::vector<PolicyChange>& changes, std::size_t held, ChangeSinks sinks);

}  // namespace server
}  // namespace giosg
