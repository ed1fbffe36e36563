#pragma once
// The Generic Cell Rate Algorithm (GCRA, ITU-T I.371), the token bucket of docs/reference.md
// "Rate limits" written as one timestamp per key: the theoretical arrival time (TAT) of the next
// request at the configured rate. A bucket of `burst` tokens refilled at `per_s` admits a request
// at `now` exactly when TAT + emission - now <= burst * emission.
//
// Why one timestamp instead of a (tokens, last refill) pair: the whole state of a key is one
// 64-bit word, so a decision is one compare-and-swap on a shared atomic (no lock between workers)
// and one key with one value in Redis (one GET/SET in the Lua script, no hash of two fields that
// must change together). Refill needs no timer: it is implicit in how far `now` has moved past TAT.
// Pure: no clocks, no I/O; times are nanoseconds on whatever clock the caller uses.
#include <cstdint>

#include "config/config.hpp"

namespace giosg::limits {

/// A rate compiled for the request path: integer nanoseconds, no floating point per decision.
struct GcraParams {
    std::int64_t emission_ns = 0;   // 1 / per_s
    std::int64_t tolerance_ns = 0;  // burst * emission: how far TAT may run ahead of now
    std::uint32_t burst = 0;
    double per_s = 0;

    static GcraParams from(const RateConfig& rate) noexcept;
};

struct GcraDecision {
    bool allowed = false;
    std::int64_t new_tat = 0;        // the state to store when allowed (unchanged when refused)
    std::uint32_t remaining = 0;     // requests still admitted at once after this one
    std::int64_t retry_after_ns = 0; // refused: how long until one request would be admitted
    std::int64_t reset_ns = 0;       // how long until the bucket is full again
};

/// The decision for one request at `now`, given the stored TAT (0 for a key never seen).
GcraDecision gcra_decide(std::int64_t tat, std::int64_t now, const GcraParams& params) noexcept;

/// Whole seconds for a header, rounded up and at least 1 (docs/reference.md: Retry-After >= 1).
std::int64_t ceil_seconds(std::int64_t ns) noexcept;

}  // namespace giosg::limits
