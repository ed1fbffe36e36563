#include "admin/rate_metrics.hpp"

#include <fmt/format.h>

namespace giosg {

namespace {
constexpr std::array<std::string_view, limits::kStoreFailureKinds> kStoreFailureLabels = {"timeout", "error", "disconnected"};
}  // namespace

RateLimitCounters::RateLimitCounters(std::size_t client_count)
    : clients_(client_count), refused_(new std::atomic<std::uint64_t>[std::max<std::size_t>(1, client_count) * limits::kLimitKinds]{}) {}

void RateLimitCounters::count_refused(std::size_t client, limits::LimitKind kind) noexcept {
    if (client >= clients_ || kind == limits::LimitKind::none) return;
    refused_[client * limits::kLimitKinds + limits::limit_index(kind)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t RateLimitCounters::refused(std::size_t client, std::size_t limit_index) const noexcept {
    return refused_[client * limits::kLimitKinds + limit_index].load(std::memory_order_relaxed);
}

void render_rate_limit_metrics(std::string& out, const std::vector<std::string>& client_names,
                               const std::vector<const RateLimitCounters*>& shards) {
    out.append("# HELP giosg_gateway_rate_limited_total Requests refused by a limit, by client and limit.\n"
               "# TYPE giosg_gateway_rate_limited_total counter\n");
    for (std::size_t c = 0; c < client_names.size(); ++c) {
        for (std::size_t l = 0; l < limits::kLimitKinds; ++l) {
            std::uint64_t total = 0;
            for (const auto* s : shards) total += s->refused(c, l);
            if (total == 0) continue;
            fmt::format_to(std::back_inserter(out), "giosg_gateway_rate_limited_total{{client=\"{}\",limit=\"{}\"}} {}\n",
                           client_names[c], limits::limit_label(static_cast<limits::LimitKind>(l + 1)), total);
        }
    }
    out.append("# HELP giosg_gateway_rate_store_failures_total Shared rate store decisions that failed "
               "(on_store_failure applied), by reason.\n"
               "# TYPE giosg_gateway_rate_store_failures_total counter\n");
    for (std::size_t k = 0; k < limits::kStoreFailureKinds; ++k) {
        std::uint64_t total = 0;
        for (const auto* s : shards) total += s->store_failures(k);
        fmt::format_to(std::back_inserter(out), "giosg_gateway_rate_store_failures_total{{reason=\"{}\"}} {}\n",
                       kStoreFailureLabels[k], total);
    }
}

}  // namespace giosg
