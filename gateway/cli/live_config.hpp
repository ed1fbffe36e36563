#pragma once
// What `serve` changes while it runs (docs/reference.md §5 "Reload"): the config reloaded on
// SIGHUP or POST /reload, token files picked up when they change, the policy table refreshed.
// Every change builds a new immutable Snapshot and publishes it to the workers, which swap it
// on their own threads: a request in flight keeps the one it started with, the next request on
// a kept-alive connection takes the new one, nothing is dropped.
//
// Used only on the main thread (signals, the policy refresh, the token watch, and the admin
// listener's POST /reload posted there), so changes never race each other.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin.hpp"
#include "admin/metrics.hpp"
#include "admin/readiness.hpp"
#include "audit/writer.hpp"
#include "cli/commands.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "policy/drift.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::cli {

enum class ReloadTrigger : std::uint8_t { signal, admin, file };

class LiveConfig {
public:
    /// `loaded` is what serve started from (already validated); `audit_ring` is the main
    /// thread's producer on the audit writer. `admin` may be null.
    LiveConfig(const Loaded& loaded, std::shared_ptr<const Snapshot> snapshot, server::Server& server,
               Metrics& metrics, AuditWriter& audit, AuditRing& audit_ring, Readiness& readiness, AdminServer* admin);

    [[nodiscard]] const std::shared_ptr<const Snapshot>& current() const noexcept { return current_; }
    /// The token of credential `name` now in use, if loaded.
    [[nodiscard]] const Secret* credential(const std::string& name) const;

    /// Re-reads the config file and everything it names, validates it as `check` does and, when
    /// valid, publishes it. Logs, counts and audits the outcome either way.
    AdminReloadResult reload(ReloadTrigger trigger);

    /// Re-reads the token files of the current config; publishes a snapshot with the tokens that
    /// changed (a file that became empty or unreadable keeps its last good token, logged and
    /// counted once per change). Cheap when nothing changed.
    void check_token_files();

    /// A refreshed live catalogue: the drift rule (policy.on_widening) decides what applies;
    /// every change is logged, counted and audited; the table in force is published.
    void refresh_policy(const std::vector<CatalogueEntry>& live);

    /// The token files' folders (for the watch).
    [[nodiscard]] std::vector<std::filesystem::path> token_folders() const;

private:
    void publish(std::shared_ptr<const Snapshot> snapshot);
    /// The snapshot for `config` and `credentials`, its metric slots filled.
    /// `listener_tls`: the running TLS context to keep; null: made from the config's files.
    std::shared_ptr<const Snapshot> build(std::shared_ptr<const Config> config, const CredentialSet& credentials,
                                          std::shared_ptr<const PolicyTable> policy, std::string policy_origin,
                                          std::shared_ptr<boost::asio::ssl::context> listener_tls = nullptr);
    /// The audit record {"kind": "reload"}; `config_sha256` of the file read (empty: unreadable).
    void audit_reload(bool ok, ReloadTrigger trigger, std::string_view config_sha256);
    /// What the config sets outside the snapshot: readiness inputs, the admin token, logging.
    void apply_operations(const Config& config);
    /// Starts the drift state from a policy load (start or reload) and reports its changes.
    void adopt_policy_load(const PolicyLoad& load, OnWidening mode);

    std::shared_ptr<const Snapshot> current_;
    CredentialSet credentials_;
    std::string config_sha256_;
    std::map<std::string, std::string, std::less<>> token_file_errors_;  // credential -> last error logged
    server::Server& server_;
    Metrics& metrics_;
    AuditWriter& audit_;
    AuditRing& audit_ring_;
    Readiness& readiness_;
    AdminServer* admin_;
    std::optional<PolicyDrift> drift_;  // the table in force and the held changes
    std::string line_;  // the audit record being written
};

}  // namespace giosg::cli
