#pragma once
// Catalogue drift metrics (docs/reference.md "Catalogue drift"): changes found by policy
// refreshes, by kind and whether they applied, and how many are held now. Written by the main
// thread's refresh, read by the admin thread's scrape.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace giosg {

struct PolicyChange;

class PolicyChangeMetrics {
public:
    /// Counts one reported change in giosg_gateway_policy_changes_total{change,applied}.
    void count(const PolicyChange& change) noexcept;
    /// giosg_gateway_policy_changes_held: the changes held now.
    void set_held(std::uint64_t held) noexcept { held_.store(held, std::memory_order_relaxed); }

    [[nodiscard]] std::uint64_t changes(char change, bool applied) const noexcept;
    [[nodiscard]] std::uint64_t held() const noexcept { return held_.load(std::memory_order_relaxed); }

    /// Appends both metrics in the Prometheus text format, every label pair present (also 0).
    void render(std::string& out) const;

private:
    static std::size_t index(char change, bool applied) noexcept;
    std::array<std::atomic<std::uint64_t>, 6> changes_{};  // ('+', '-', '~') x (applied, held)
    std::atomic<std::uint64_t> held_{0};
};

}  // namespace giosg
