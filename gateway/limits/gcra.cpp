#include "limits/gcra.hpp"

#include <algorithm>
#include <cmath>

namespace giosg::limits {

GcraParams GcraParams::from(const RateConfig& rate) noexcept {
    GcraParams params;
    params.per_s = rate.per_s;
    params.burst = rate.burst;
    // per_s is at least 0.001 (config), so an emission interval is at most 1000 s: no overflow
    // even for the largest burst.
    params.emission_ns = std::max<std::int64_t>(1, std::llround(1e9 / rate.per_s));
    params.tolerance_ns = params.emission_ns * static_cast<std::int64_t>(rate.burst);
    return params;
}

GcraDecision gcra_decide(std::int64_t tat, std::int64_t now, const GcraParams& params) noexcept {
    GcraDecision decision;
    const std::int64_t base = std::max(tat, now);
    const std::int64_t next_tat = base + params.emission_ns;
    const std::int64_t ahead = next_tat - now;  // how much of the burst this request would use
    if (ahead > params.tolerance_ns) {
        decision.retry_after_ns = ahead - params.tolerance_ns;
        decision.new_tat = tat;
        decision.reset_ns = base - now;
        return decision;
    }
    decision.allowed = true;
    decision.new_tat = next_tat;
    decision.remaining = static_cast<std::uint32_t>((params.tolerance_ns - ahead) / params.emission_ns);
    decision.reset_ns = ahead;
    return decision;
}

std::int64_t ceil_seconds(std::int64_t ns) noexcept {
    constexpr std::int64_t kSecond = 1'000'000'000;
    return std::max<std::int64_t>(1, (ns + kSecond - 1) / kSecond);
}

}  // namespace giosg::limits
