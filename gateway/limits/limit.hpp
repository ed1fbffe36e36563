#pragma once
// The limit stage (docs/architecture.md): between the decision and the forward, the per-client
// and per-credential limits of docs/reference.md "Rate limits" that refuse a request with 429.
// Pure: no Asio; the time is a parameter (nanoseconds of the caller's steady clock). The rate
// buckets may instead live in Redis (limits/redis_store.hpp); the in-flight counts and the
// upstream holds are always this replica's own.
#include <cstdint>
#include <string_view>

#include "common/reason.hpp"
#include "limits/gcra.hpp"
#include "limits/local_limits.hpp"

namespace giosg::limits {

/// Which limit refused: the audit record's `limit` and the metric's `limit` label.
enum class LimitKind : std::uint8_t { none, client_rate, client_in_flight, credential_rate, upstream_hold };
inline constexpr std::size_t kLimitKinds = 4;  // without none

/// "client_rate", …; empty for none.
std::string_view limit_label(LimitKind kind) noexcept;
/// 0..kLimitKinds-1 for the metric arrays (not for none).
inline std::size_t limit_index(LimitKind kind) noexcept { return static_cast<std::size_t>(kind) - 1; }

/// Why a shared-store decision failed (the store failure metric's `reason`): no answer within
/// timeout_ms, an error reply or broken protocol, or no connection at the time.
enum class StoreFailure : std::uint8_t { timeout, error, disconnected };
inline constexpr std::size_t kStoreFailureKinds = 3;

struct LimitVerdict {
    Reason reason = Reason::ok;     // ok: admitted
    LimitKind limit = LimitKind::none;
    std::int64_t retry_after_s = 0; // whole seconds, >= 1 when refused
    // For the RateLimit-Policy / RateLimit headers (docs/reference.md): q, w, r, t.
    std::uint32_t quota = 0;
    std::int64_t window_s = 0;
    std::uint32_t remaining = 0;
    std::int64_t reset_s = 0;

    [[nodiscard]] bool admitted() const noexcept { return reason == Reason::ok; }
};

/// The checks that stay in this replica, in order: an upstream hold on the client's credential,
/// then the client's in-flight cap (taking `slot` when admitted).
LimitVerdict check_replica_limits(LocalLimits& state, std::size_t client, std::int64_t now, InFlightSlot& slot) noexcept;

/// The client's and its credential's rate buckets in this replica's memory. A request the
/// credential refuses gives its client token back, so that it is only counted against the
/// limit that refused it.
LimitVerdict check_local_rates(LocalLimits& state, std::size_t client, std::int64_t now) noexcept;

/// A refusal by a rate bucket, from its GCRA decision.
LimitVerdict rate_refusal(LimitKind kind, const GcraParams& params, const GcraDecision& decision) noexcept;
/// The window of a bucket for RateLimit-Policy's w: the time a drained bucket takes to refill.
std::int64_t window_seconds(const GcraParams& params) noexcept;

/// Giosg answered 429 with Retry-After for `credential`: its calls wait until `until` (capped at
/// `now + max_hold`).
void hold_credential(LocalLimits& state, std::size_t credential, std::int64_t now, std::int64_t until,
                     std::int64_t max_hold) noexcept;

}  // namespace giosg::limits
