#pragma once
// Request metrics, sharded per worker: each worker increments only its own shard with relaxed
// atomics (no lock, no shared cache line); the admin listener sums the shards when scraped.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "admin/policy_change_metrics.hpp"
#include "admin/rate_metrics.hpp"
#include "common/reason.hpp"
#include "relay/body_rewrite.hpp"
#include "upstream/pool_stats.hpp"

namespace giosg {

class AuditWriter;

/// Bounded label values for `method`: the catalogue's methods plus "other", so a client cannot
/// grow the metric set by inventing methods.
inline constexpr std::array<std::string_view, 8> kMethodLabels = {"GET", "POST", "PUT", "PATCH",
                                                                  "DELETE", "OPTIONS", "HEAD", "other"};
std::size_t method_label_index(std::string_view method) noexcept;

class Histogram {
public:
    static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05, 0.1, 0.25, 0.5, 1.0, 5.0};
    void observe(double seconds) noexcept;
    struct Totals {
        std::array<std::uint64_t, kBounds.size() + 1> buckets{};  // non-cumulative, last = +Inf
        std::uint64_t count = 0;
        double sum = 0;
    };
    void add_to(Totals& totals) const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_micros_{0};
};

/// The slot of requests without a client (unauthenticated), or of clients beyond the slots.
inline constexpr std::size_t kUnauthenticatedSlot = static_cast<std::size_t>(-1);

class MetricsShard {
public:
    /// Room for `client_slots` named clients plus the unauthenticated slot.
    explicit MetricsShard(std::size_t client_slots);
    /// `client_slot` is the client's slot (Metrics::client_slot), or kUnauthenticatedSlot.
    void count_request(std::size_t client_slot, Reason code, std::string_view method) noexcept;
    Histogram request_duration;
    Histogram upstream_duration;
    Histogram rate_store_duration;      // one shared-store (Redis) decision, answered or not
    RateLimitCounters rate_limits;      // refusals by client and limit; store failures
    upstream::PoolStats upstream_pool;  // fed by the worker's upstream pool
    // Client connections of this shard's worker (written only by it). Open = accepted - closed.
    std::atomic<std::uint64_t> connections_accepted{0};  // sessions started
    std::atomic<std::uint64_t> connections_closed{0};    // sessions ended
    std::atomic<std::uint64_t> connections_parked{0};    // open, idle, held without a session (gauge)
    std::atomic<std::uint64_t> connections_refused{0};   // closed at accept: draining or at the cap
    std::atomic<std::uint64_t> tls_handshake_failures{0};  // TLS handshakes failed or timed out
    std::atomic<std::uint64_t> dropped_headers{0};       // request fields with '_' in the name, not forwarded
    /// JSON bodies passed unchanged although they might hold upstream links, by reason.
    void count_rewrite_skipped(relay::SkipReason reason) noexcept {
        rewrite_skipped[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
    }
    std::array<std::atomic<std::uint64_t>, 4> rewrite_skipped{};  // indexed by relay::SkipReason
    /// Responses the upstream itself gave, by status class (1xx..5xx): its own errors, which the
    /// gateway passes through under code "ok", are seen only here.
    void count_upstream_status(int status) noexcept {
        if (status >= 100 && status <= 599)
            upstream_responses[static_cast<std::size_t>(status / 100 - 1)].fetch_add(1, std::memory_order_relaxed);
    }
    std::array<std::atomic<std::uint64_t>, 5> upstream_responses{};

    [[nodiscard]] std::uint64_t requests(std::size_t client_slot, Reason code, std::size_t method_index) const noexcept;

private:
    std::size_t index(std::size_t client_slot, Reason code, std::size_t method_index) const noexcept;
    std::size_t client_slots_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;
};

/// All shards plus the gauges the admin listener reports.
class Metrics {
public:
    /// Client i of `client_names` gets slot i; kSpareClientSlots more are kept for clients a
    /// reload adds (beyond them a new client counts under client="").
    Metrics(std::vector<std::string> client_names, std::size_t shards);
    static constexpr std::size_t kSpareClientSlots = 256;
    MetricsShard& shard(std::size_t i) noexcept { return *shards_[i]; }
    /// The slot of the client called `name`, given one if it has none yet (reload; not the
    /// request path). kUnauthenticatedSlot when every slot is taken.
    std::size_t client_slot(const std::string& name);
    std::atomic<std::uint64_t> policy_endpoints{0};
    PolicyChangeMetrics policy_changes;   // catalogue drift (written by the policy refresh)
    // Reloads (docs/reference.md §5): giosg_gateway_reloads_total{result}.
    std::atomic<std::uint64_t> reloads_ok{0};
    std::atomic<std::uint64_t> reloads_error{0};
    /// A token_file that became empty or unreadable (the last good token stays in use).
    std::atomic<std::uint64_t> token_file_errors{0};
    /// The audit writer whose counters render() reports (optional; must outlive this object).
    void attach_audit(const AuditWriter* audit) noexcept { audit_ = audit; }

    /// Prometheus text exposition format (version 0.0.4).
    [[nodiscard]] std::string render() const;

private:
    /// One `name{worker="i"} value` line per shard under its HELP and TYPE lines.
    template <typename Value>
    void render_per_worker(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                           Value value) const;
    std::size_t client_capacity_;
    mutable std::mutex client_names_mutex_;    // reload and scrape only
    std::vector<std::string> client_names_;    // by slot; only grows
    std::vector<std::unique_ptr<MetricsShard>> shards_;
    const AuditWriter* audit_ = nullptr;
};

}  // namespace giosg
