#include "admin/metrics.hpp"

#include <fmt/format.h>

#include "audit/writer.hpp"

namespace giosg {

std::size_t method_label_index(std::string_view method) noexcept {
    for (std::size_t i = 0; i + 1 < kMethodLabels.size(); ++i)
        if (kMethodLabels[i] == method) return i;
    return kMethodLabels.size() - 1;
}

void Histogram::observe(double seconds) noexcept {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::add_to(Totals& totals) const noexcept {
    for (std::size_t i = 0; i < buckets_.size(); ++i) totals.buckets[i] += buckets_[i].load(std::memory_order_relaxed);
    totals.count += count_.load(std::memory_order_relaxed);
    totals.sum += static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

MetricsShard::MetricsShard(std::size_t client_slots)
    : rate_limits(client_slots),
      client_slots_(client_slots + 1),
      requests_(new std::atomic<std::uint64_t>[client_slots_ * kReasonCount * kMethodLabels.size()]{}) {}

std::size_t MetricsShard::index(std::size_t client_slot, Reason code, std::size_t method_index) const noexcept {
    return (client_slot * kReasonCount + static_cast<std::size_t>(code)) * kMethodLabels.size() + method_index;
}

void MetricsShard::count_request(std::size_t client_slot, Reason code, std::string_view method) noexcept {
    if (client_slot >= client_slots_) client_slot = client_slots_ - 1;
    requests_[index(client_slot, code, method_label_index(method))].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t MetricsShard::requests(std::size_t client_slot, Reason code, std::size_t method_index) const noexcept {
    return requests_[index(client_slot, code, method_index)].load(std::memory_order_relaxed);
}

Metrics::Metrics(std::vector<std::string> client_names, std::size_t shards)
    : client_capacity_(client_names.size() + kSpareClientSlots), client_names_(std::move(client_names)) {
    for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<MetricsShard>(client_capacity_));
}

std::size_t Metrics::client_slot(const std::string& name) {
    const std::lock_guard lock(client_names_mutex_);
    for (std::size_t i = 0; i < client_names_.size(); ++i)
        if (client_names_[i] == name) return i;
    if (client_names_.size() >= client_capacity_) return kUnauthenticatedSlot;
    client_names_.push_back(name);
    return client_names_.size() - 1;
}

namespace {
void render_histogram(std::string& out, std::string_view name, std::string_view help, const Histogram::Totals& t) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
        cumulative += t.buckets[i];
        fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, Histogram::kBounds[i], cumulative);
    }
    cumulative += t.buckets.back();
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative,
                   name, t.sum, name, t.count);
}
}  // namespace

template <typename Value>
void Metrics::render_per_worker(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                                Value value) const {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (std::size_t i = 0; i < shards_.size(); ++i)
        fmt::format_to(std::back_inserter(out), "{}{{worker=\"{}\"}} {}\n", name, i, value(*shards_[i]));
}

std::string Metrics::render() const {
    std::string out;
    out.append("# HELP giosg_gateway_requests_total Requests by client, outcome code and method.\n"
               "# TYPE giosg_gateway_requests_total counter\n");
    std::vector<std::string> names;
    {
        const std::lock_guard lock(client_names_mutex_);
        names = client_names_;
    }
    for (std::size_t n = 0; n <= names.size(); ++n) {
        // The named slots, then the unauthenticated one (the last of each shard).
        const std::size_t c = n < names.size() ? n : client_capacity_;
        const std::string_view client = n < names.size() ? std::string_view(names[n]) : "";
        for (int r = 0; r < kReasonCount; ++r) {
            for (std::size_t m = 0; m < kMethodLabels.size(); ++m) {
                std::uint64_t total = 0;
                for (const auto& s : shards_) total += s->requests(c, static_cast<Reason>(r), m);
                if (total == 0) continue;
                fmt::format_to(std::back_inserter(out),
                               "giosg_gateway_requests_total{{client=\"{}\",code=\"{}\",method=\"{}\"}} {}\n", client,
                               reason_code(static_cast<Reason>(r)), kMethodLabels[m], total);
            }
        }
    }
    Histogram::Totals request_totals, upstream_totals;
    std::uint64_t opened = 0, idle_overflow = 0, dropped_headers = 0;
    std::array<std::uint64_t, 4> rewrite_skipped{};
    std::array<std::uint64_t, 5> upstream_responses{};
    for (const auto& s : shards_) {
        s->request_duration.add_to(request_totals);
        s->upstream_duration.add_to(upstream_totals);
        opened += s->upstream_pool.opened.load(std::memory_order_relaxed);
        idle_overflow += s->upstream_pool.idle_overflow.load(std::memory_order_relaxed);
        dropped_headers += s->dropped_headers.load(std::memory_order_relaxed);
        for (std::size_t r = 0; r < rewrite_skipped.size(); ++r)
            rewrite_skipped[r] += s->rewrite_skipped[r].load(std::memory_order_relaxed);
        for (std::size_t c = 0; c < upstream_responses.size(); ++c)
            upstream_responses[c] += s->upstream_responses[c].load(std::memory_order_relaxed);
    }
    render_histogram(out, "giosg_gateway_request_duration_seconds",
                     "Time from the first byte of a request head to the end of its response.", request_totals);
    render_histogram(out, "giosg_gateway_upstream_duration_seconds",
                     "Time from forwarding to the upstream's response head.", upstream_totals);
    Histogram::Totals store_totals;
    std::vector<const RateLimitCounters*> rate_shards;
    for (const auto& s : shards_) {
        s->rate_store_duration.add_to(store_totals);
        rate_shards.push_back(&s->rate_limits);
    }
    render_histogram(out, "giosg_gateway_rate_store_duration_seconds",
                     "Time of one shared rate store (Redis) decision, from request to answer or failure.", store_totals);
    render_rate_limit_metrics(out, names, rate_shards);
    fmt::format_to(std::back_inserter(out),
                   "# HELP giosg_gateway_policy_endpoints Endpoints in the active policy table.\n"
                   "# TYPE giosg_gateway_policy_endpoints gauge\ngiosg_gateway_policy_endpoints {}\n",
                   policy_endpoints.load(std::memory_order_relaxed));
    policy_changes.render(out);
    fmt::format_to(std::back_inserter(out),
                   "# HELP giosg_gateway_reloads_total Config reloads (SIGHUP, POST /reload, a changed token_file), "
                   "by result.\n# TYPE giosg_gateway_reloads_total counter\n"
                   "giosg_gateway_reloads_total{{result=\"ok\"}} {}\ngiosg_gateway_reloads_total{{result=\"error\"}} {}\n"
                   "# HELP giosg_gateway_token_file_errors_total Token files found empty or unreadable; the last "
                   "good token stayed in use.\n# TYPE giosg_gateway_token_file_errors_total counter\n"
                   "giosg_gateway_token_file_errors_total {}\n",
                   reloads_ok.load(std::memory_order_relaxed), reloads_error.load(std::memory_order_relaxed),
                   token_file_errors.load(std::memory_order_relaxed));
    fmt::format_to(std::back_inserter(out),
                   "# HELP giosg_gateway_upstream_connections_opened_total Connections opened to the upstream "
                   "(resolve, connect and TLS), also failed attempts.\n"
                   "# TYPE giosg_gateway_upstream_connections_opened_total counter\n"
                   "giosg_gateway_upstream_connections_opened_total {}\n"
                   "# HELP giosg_gateway_upstream_idle_overflow_total Kept-alive upstream connections closed because "
                   "the worker's idle pool was full (upstream.max_idle_connections).\n"
                   "# TYPE giosg_gateway_upstream_idle_overflow_total counter\n"
                   "giosg_gateway_upstream_idle_overflow_total {}\n",
                   opened, idle_overflow);
    out.append("# HELP giosg_gateway_upstream_responses_total Responses from the upstream, by status class.\n"
               "# TYPE giosg_gateway_upstream_responses_total counter\n");
    for (std::size_t c = 0; c < upstream_responses.size(); ++c)
        fmt::format_to(std::back_inserter(out), "giosg_gateway_upstream_responses_total{{class=\"{}xx\"}} {}\n", c + 1,
                       upstream_responses[c]);
    fmt::format_to(std::back_inserter(out),
                   "# HELP giosg_gateway_dropped_headers_total Request header fields not forwarded because their "
                   "name contains '_'.\n"
                   "# TYPE giosg_gateway_dropped_headers_total counter\n"
                   "giosg_gateway_dropped_headers_total {}\n",
                   dropped_headers);
    out.append(
        "# HELP giosg_gateway_rewrite_skipped_total JSON response bodies passed on without rewriting their "
        "links, by reason.\n# TYPE giosg_gateway_rewrite_skipped_total counter\n");
    for (std::size_t r = 0; r < rewrite_skipped.size(); ++r)
        fmt::format_to(std::back_inserter(out), "giosg_gateway_rewrite_skipped_total{{reason=\"{}\"}} {}\n",
                       relay::skip_reason_label(static_cast<relay::SkipReason>(r)), rewrite_skipped[r]);
    render_per_worker(out, "giosg_gateway_downstream_connections_accepted_total", "counter",
                      "Client connections accepted, by worker.",
                      [](const MetricsShard& s) { return s.connections_accepted.load(std::memory_order_relaxed); });
    render_per_worker(out, "giosg_gateway_downstream_connections_active", "gauge",
                      "Client connections open, by worker.", [](const MetricsShard& s) {
                          // Closed is read first: a connection that ends in between is then still counted.
                          const auto closed = s.connections_closed.load(std::memory_order_relaxed);
                          const auto accepted = s.connections_accepted.load(std::memory_order_relaxed);
                          return accepted >= closed ? accepted - closed : 0;
                      });
    render_per_worker(out, "giosg_gateway_downstream_connections_parked", "gauge",
                      "Client connections open and idle past one second, held without a session, by worker.",
                      [](const MetricsShard& s) { return s.connections_parked.load(std::memory_order_relaxed); });
    render_per_worker(out, "giosg_gateway_downstream_connections_refused_total", "counter",
                      "Client connections closed at accept, unserved: the worker was draining or held its "
                      "maximum of open connections.",
                      [](const MetricsShard& s) { return s.connections_refused.load(std::memory_order_relaxed); });
    render_per_worker(out, "giosg_gateway_tls_handshake_failures_total", "counter",
                      "TLS handshakes on the client listener that failed or passed tls.handshake_timeout_ms, by worker.",
                      [](const MetricsShard& s) { return s.tls_handshake_failures.load(std::memory_order_relaxed); });
    if (audit_ != nullptr) {
        fmt::format_to(std::back_inserter(out),
                       "# HELP giosg_gateway_audit_lines_written_total Audit records written.\n"
                       "# TYPE giosg_gateway_audit_lines_written_total counter\n"
                       "giosg_gateway_audit_lines_written_total {}\n"
                       "# HELP giosg_gateway_audit_failures_total Failed attempts to write, fsync or open the audit file.\n"
                       "# TYPE giosg_gateway_audit_failures_total counter\n"
                       "giosg_gateway_audit_failures_total {}\n"
                       "# HELP giosg_gateway_audit_healthy 1 while audit records are being written, 0 while writes fail.\n"
                       "# TYPE giosg_gateway_audit_healthy gauge\n"
                       "giosg_gateway_audit_healthy {}\n"
                       "# HELP giosg_gateway_audit_dropped_total Records dropped for want of room in the audit queue (on_failure allow only).\n"
                       "# TYPE giosg_gateway_audit_dropped_total counter\n"
                       "giosg_gateway_audit_dropped_total {}\n"
                       "# HELP giosg_gateway_audit_fsyncs_total fsync calls on the audit file.\n"
                       "# TYPE giosg_gateway_audit_fsyncs_total counter\n"
                       "giosg_gateway_audit_fsyncs_total {}\n"
                       "# HELP giosg_gateway_audit_rotations_total Audit file rotations.\n"
                       "# TYPE giosg_gateway_audit_rotations_total counter\n"
                       "giosg_gateway_audit_rotations_total {}\n"
                       "# HELP giosg_gateway_audit_checkpoints_total Signed checkpoints written.\n"
                       "# TYPE giosg_gateway_audit_checkpoints_total counter\n"
                       "giosg_gateway_audit_checkpoints_total {}\n"
                       "# HELP giosg_gateway_audit_syslog_sent_total Audit lines sent to syslog.\n"
                       "# TYPE giosg_gateway_audit_syslog_sent_total counter\n"
                       "giosg_gateway_audit_syslog_sent_total {}\n"
                       "# HELP giosg_gateway_audit_syslog_dropped_total Audit lines dropped from the full syslog queue.\n"
                       "# TYPE giosg_gateway_audit_syslog_dropped_total counter\n"
                       "giosg_gateway_audit_syslog_dropped_total {}\n",
                       audit_->lines_written(), audit_->write_failures(), audit_->healthy() ? 1 : 0,
                       audit_->dropped(), audit_->fsyncs(), audit_->rotations(), audit_->checkpoints(),
                       audit_->syslog_sent(), audit_->syslog_dropped());
        // docs/audit.md "Under load": the queue between the workers and the writer.
        fmt::format_to(std::back_inserter(out),
                       "# HELP giosg_gateway_audit_queue_records Audit records queued for the writer.\n"
                       "# TYPE giosg_gateway_audit_queue_records gauge\n"
                       "giosg_gateway_audit_queue_records {}\n"
                       "# HELP giosg_gateway_audit_queue_bytes Bytes of audit records queued for the writer.\n"
                       "# TYPE giosg_gateway_audit_queue_bytes gauge\n"
                       "giosg_gateway_audit_queue_bytes {}\n"
                       "# HELP giosg_gateway_audit_queue_bytes_limit audit.queue_bytes.\n"
                       "# TYPE giosg_gateway_audit_queue_bytes_limit gauge\n"
                       "giosg_gateway_audit_queue_bytes_limit {}\n"
                       "# HELP giosg_gateway_audit_queue_fill The fullest worker's audit queue, 0 to 1.\n"
                       "# TYPE giosg_gateway_audit_queue_fill gauge\n"
                       "giosg_gateway_audit_queue_fill {:.4f}\n"
                       "# HELP giosg_gateway_audit_queue_waits_total Requests that waited for room in the audit queue.\n"
                       "# TYPE giosg_gateway_audit_queue_waits_total counter\n"
                       "giosg_gateway_audit_queue_waits_total {}\n"
                       "# HELP giosg_gateway_audit_queue_wait_seconds_total Time requests spent waiting for room in the audit queue.\n"
                       "# TYPE giosg_gateway_audit_queue_wait_seconds_total counter\n"
                       "giosg_gateway_audit_queue_wait_seconds_total {:.6f}\n"
                       "# HELP giosg_gateway_audit_queue_refused_total Requests answered 503 audit_unavailable for want of room in the audit queue.\n"
                       "# TYPE giosg_gateway_audit_queue_refused_total counter\n"
                       "giosg_gateway_audit_queue_refused_total {}\n",
                       audit_->queued_records(), audit_->queued_bytes(), audit_->queue_bytes_limit(),
                       audit_->queue_fill(), audit_->queue_waits(), audit_->queue_wait_seconds(),
                       audit_->queue_refused());
    }
    return out;
}

}  // namespace giosg
