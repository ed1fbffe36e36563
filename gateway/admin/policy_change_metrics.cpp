#include "admin/policy_change_metrics.hpp"

#include <fmt/format.h>

#include "policy/drift.hpp"

namespace giosg {

namespace {
constexpr std::array<char, 3> kChanges = {'+', '-', '~'};
}

std::size_t PolicyChangeMetrics::index(char change, bool applied) noexcept {
    const std::size_t kind = change == '+' ? 0 : change == '-' ? 1 : 2;
    return kind * 2 + (applied ? 0 : 1);
}

void PolicyChangeMetrics::count(const PolicyChange& change) noexcept {
    changes_[index(change.change, change.applied)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t PolicyChangeMetrics::changes(char change, bool applied) const noexcept {
    return changes_[index(change, applied)].load(std::memory_order_relaxed);
}

void PolicyChangeMetrics::render(std::string& out) const {
    out.append(
        "# HELP giosg_gateway_policy_changes_total Catalogue changes found by policy refreshes, by kind (+ added, "
        "- removed, ~ scopes changed) and whether they applied (false: held under policy.on_widening \"hold\").\n"
        "# TYPE giosg_gateway_policy_changes_total counter\n");
    for (const char change : kChanges)
        for (const bool applied : {true, false})
            fmt::format_to(std::back_inserter(out),
                           "giosg_gateway_policy_changes_total{{change=\"{}\",applied=\"{}\"}} {}\n", change,
                           applied ? "true" : "false", changes(change, applied));
    fmt::format_to(std::back_inserter(out),
                   "# HELP giosg_gateway_policy_changes_held Catalogue changes held now, awaiting review "
                   "(policy.on_widening \"hold\").\n"
                   "# TYPE giosg_gateway_policy_changes_held gauge\ngiosg_gateway_policy_changes_held {}\n",
                   held());
}

}  // namespace giosg
