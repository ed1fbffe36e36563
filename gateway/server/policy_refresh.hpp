#pragma once
// The periodic policy refresh (policy.source "upstream", refresh_s > 0) on the main thread:
// fetch the live catalogue, let the drift rule decide what applies (policy/drift.hpp), report
// every change found, and publish a new snapshot. docs/reference.md "Catalogue drift".
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "policy/drift.hpp"

namespace giosg {

class AuditRing;
class AuditWriter;
class Metrics;
struct Snapshot;

namespace server {

class Server;

/// Where reported changes go: a log line each, the metrics, and a `policy_change` audit record
/// each through `ring` (a producer ring of its own, used from one thread only).
struct ChangeSinks {
    Metrics& metrics;
    AuditWriter& audit;
    AuditRing& ring;
};

/// Logs, counts and audits `changes`; sets the held gauge to `held`.
void report_policy_changes(const std::vector<PolicyChange>& changes, std::size_t held, ChangeSinks sinks);

/// Runs until `ioc` stops: every policy.refresh, a fetch; a failed fetch keeps the table in force.
boost::asio::awaitable<void> policy_refresh_loop(boost::asio::io_context& ioc, Server& server,
                                                 std::shared_ptr<const Snapshot> base, const CredentialSet& credentials,
                                                 PolicyDrift drift, ChangeSinks sinks);

}  // namespace server
}  // namespace giosg
