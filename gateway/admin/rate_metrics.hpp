#pragma once
// The limit stage's metrics, one set per worker shard (docs/reference.md, "Rate limits"):
// refusals by client and limit, and the shared store's decision latency and failures.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "limits/limit.hpp"

namespace giosg {

class RateLimitCounters {
public:
    explicit RateLimitCounters(std::size_t client_count);
    void count_refused(std::size_t client, limits::LimitKind kind) noexcept;
    void count_store_failure(limits::StoreFailure failure) noexcept {
        store_failures_[static_cast<std::size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t refused(std::size_t client, std::size_t limit_index) const noexcept;
    [[nodiscard]] std::uint64_t store_failures(std::size_t kind) const noexcept {
        return store_failures_[kind].load(std::memory_order_relaxed);
    }

private:
    std::size_t clients_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> refused_;
    std::array<std::atomic<std::uint64_t>, limits::kStoreFailureKinds> store_failures_{};
};

/// giosg_gateway_rate_limited_total{client,limit} and giosg_gateway_rate_store_failures_total{reason},
/// summed over the shards.
void render_rate_limit_metrics(std::string& out, const std::vector<std::string>& client_names,
                               const std::vector<const RateLimitCounters*>& shards);

}  // namespace giosg
