#pragma once
// Everything a worker needs to decide about and forward a request, built once and then
// immutable. A policy refresh builds a new Snapshot and hands it to each worker; requests in
// flight keep the one they started with.
#include <memory>
#include <string>
#include <vector>

#include "common/secret.hpp"
#include "config/config.hpp"
#include "identity/client_table.hpp"
#include "limits/local_limits.hpp"
#include "policy/catalogue.hpp"
#include "relay/origin.hpp"

namespace boost::asio::ssl {
class context;
}

namespace giosg {

struct Snapshot {
    std::shared_ptr<const Config> config;
    std::shared_ptr<const ClientTable> clients;
    std::shared_ptr<const PolicyTable> policy;
    /// Per client index: the complete "Authorization: Token <server token>\r\n" line sent upstream.
    std::vector<Secret> upstream_authorization;
    std::string policy_origin;   // where the policy came from, for logs ("upstream", "file ...")
    // The origins response links are judged by (docs/reference.md §6): links on the upstream's
    // are rewritten onto public_url, or, without one, onto the listener's scheme and the Host.
    relay::Origin upstream_origin;
    std::optional<relay::PublicOrigin> public_origin;
    /// Per client index: its slot in the request metrics. Empty: the client index itself (the
    /// start-up snapshot, whose clients the metrics were made for); a reload fills it.
    std::vector<std::size_t> metric_slots;
    [[nodiscard]] std::size_t metric_slot(std::size_t client_index) const noexcept {
        return metric_slots.empty() ? client_index : metric_slots[client_index];
    }
    /// This replica's limit state (rate buckets, in-flight counts, upstream holds): shared by the
    /// workers and mutable through atomics, kept by a refreshed snapshot (with_policy).
    std::shared_ptr<limits::LocalLimits> limits;
    /// The client listener's TLS context (`tls`), made from its files with every snapshot a
    /// reload builds (a refresh keeps it): a new connection is handshaken with the newest one,
    /// and each connection keeps the one it started with.
    std::shared_ptr<boost::asio::ssl::context> listener_tls;
};

/// Builds a snapshot; every client's credential must be present in `credentials`
/// (load_credentials has checked that). Loads the `tls` files unless `listener_tls` is given (a
/// rebuild that keeps the running context: a rotated token is no reason to re-read them); throws
/// naming the setting when one cannot be used.
std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const Config> config, const CredentialSet& credentials,
                                              std::shared_ptr<const PolicyTable> policy, std::string policy_origin,
                                              std::shared_ptr<boost::asio::ssl::context> listener_tls = nullptr);

/// The same snapshot with another policy table (a refresh).
std::shared_ptr<const Snapshot> with_policy(const Snapshot& base, std::shared_ptr<const PolicyTable> policy,
                                            std::string policy_origin);

}  // namespace giosg
