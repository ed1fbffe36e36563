#include "limits/limit.hpp"

#include <algorithm>

namespace giosg::limits {

std::string_view limit_label(LimitKind kind) noexcept {
    switch (kind) {
        case LimitKind::none: return {};
        case LimitKind::client_rate: return "client_rate";
        case LimitKind::client_in_flight: return "client_in_flight";
        case LimitKind::credential_rate: return "credential_rate";
        case LimitKind::upstream_hold: return "upstream_hold";
    }
    return {};
}

std::int64_t window_seconds(const GcraParams& params) noexcept { return ceil_seconds(params.tolerance_ns); }

LimitVerdict rate_refusal(LimitKind kind, const GcraParams& params, const GcraDecision& decision) noexcept {
    LimitVerdict verdict;
    verdict.reason = Reason::rate_limited;
    verdict.limit = kind;
    verdict.retry_after_s = ceil_seconds(decision.retry_after_ns);
    verdict.quota = params.burst;
    verdict.window_s = window_seconds(params);
    verdict.remaining = 0;
    verdict.reset_s = verdict.retry_after_s;
    return verdict;
}

LimitVerdict check_replica_limits(LocalLimits& state, std::size_t client, std::int64_t now, InFlightSlot& slot) noexcept {
    const auto& limits = state.client(client);
    const std::int64_t held_until = state.hold(limits.credential).until.load(std::memory_order_relaxed);
    if (held_until > now) {
        LimitVerdict verdict;
        verdict.reason = Reason::upstream_rate_limited;
        verdict.limit = LimitKind::upstream_hold;
        verdict.retry_after_s = ceil_seconds(held_until - now);
        verdict.reset_s = verdict.retry_after_s;
        return verdict;
    }
    if (limits.max_in_flight > 0 && !slot.try_take(state.in_flight(client), limits.max_in_flight)) {
        // Retry-After 1 (docs/reference.md): a place frees when any request ends, which cannot be
        // predicted; a second is the smallest value the header can carry.
        LimitVerdict verdict;
        verdict.reason = Reason::rate_limited;
        verdict.limit = LimitKind::client_in_flight;
        verdict.retry_after_s = 1;
        verdict.quota = limits.max_in_flight;
        verdict.window_s = 1;
        verdict.reset_s = 1;
        return verdict;
    }
    return {};
}

LimitVerdict check_local_rates(LocalLimits& state, std::size_t client, std::int64_t now) noexcept {
    const auto& limits = state.client(client);
    LimitVerdict admitted;
    if (limits.rate) {
        const GcraDecision decision = take(state.client_rate(client), now, *limits.rate);
        if (!decision.allowed) return rate_refusal(LimitKind::client_rate, *limits.rate, decision);
        admitted.quota = limits.rate->burst;
        admitted.window_s = window_seconds(*limits.rate);
        admitted.remaining = decision.remaining;
        admitted.reset_s = ceil_seconds(decision.reset_ns);
    }
    if (const auto& credential_rate = state.credential(limits.credential).rate) {
        const GcraDecision decision = take(state.credential_rate(limits.credential), now, *credential_rate);
        if (!decision.allowed) {
            if (limits.rate) give_back(state.client_rate(client), *limits.rate);
            return rate_refusal(LimitKind::credential_rate, *credential_rate, decision);
        }
    }
    return admitted;
}

void hold_credential(LocalLimits& state, std::size_t credential, std::int64_t now, std::int64_t until,
                     std::int64_t max_hold) noexcept {
    extend_hold(state.hold(credential), std::min(until, now + max_hold));
}

}  // namespace giosg::limits
