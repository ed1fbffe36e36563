#pragma once
// One replica's limit state, shared by all its workers without a lock (docs/architecture.md,
// "limit"): a GCRA timestamp per client and per credential, an in-flight counter per client and
// an upstream hold per credential, each an atomic on its own cache line.
//
// Why shared atomics rather than per-worker buckets with a fair share of the rate: the kernel
// spreads connections over workers unevenly, and one client on one kept-alive connection lives
// on one worker, so a 1/N share would admit that client only per_s/N (bench/README.md, "Rate
// limits", has the numbers for both). A compare-and-swap on one 64-bit TAT admits exactly the
// configured rate across workers, and costs a few nanoseconds more only when several workers
// decide for the same key at the same instant.
#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "limits/gcra.hpp"

namespace giosg::limits {

inline constexpr std::size_t kCacheLine = 64;

/// One GCRA key: its theoretical arrival time.
struct alignas(kCacheLine) RateCell {
    std::atomic<std::int64_t> tat{0};
};

/// The decision at `now` on a cell shared between threads, stored by compare-and-swap: a refused
/// request changes nothing, and an admitted one is never lost to a concurrent one.
GcraDecision take(RateCell& cell, std::int64_t now, const GcraParams& params) noexcept;
/// Gives back what take() admitted, when a later limit refused the same request.
void give_back(RateCell& cell, const GcraParams& params) noexcept;

struct alignas(kCacheLine) InFlightCell {
    std::atomic<std::uint32_t> count{0};
};

/// A client's place among its requests in flight; released when the request ends (or the slot
/// is destroyed or moved over).
class InFlightSlot {
public:
    InFlightSlot() = default;
    ~InFlightSlot() { release(); }
    InFlightSlot(InFlightSlot&& other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}
    InFlightSlot& operator=(InFlightSlot&& other) noexcept {
        if (this != &other) {
            release();
            cell_ = std::exchange(other.cell_, nullptr);
        }
        return *this;
    }
    InFlightSlot(const InFlightSlot&) = delete;
    InFlightSlot& operator=(const InFlightSlot&) = delete;

    /// Takes a place when fewer than `max` are taken; false (and nothing held) otherwise.
    bool try_take(InFlightCell& cell, std::uint32_t max) noexcept;
    void release() noexcept;
    [[nodiscard]] bool held() const noexcept { return cell_ != nullptr; }

private:
    InFlightCell* cell_ = nullptr;
};

/// Until when giosg asked a credential's calls to wait (its 429 Retry-After), in the caller's
/// clock; 0 = no hold.
struct alignas(kCacheLine) HoldCell {
    std::atomic<std::int64_t> until{0};
};

/// Moves the hold to `until` unless it already lasts longer.
void extend_hold(HoldCell& cell, std::int64_t until) noexcept;

/// The compiled limits of one client and one credential, and their state in this replica.
class LocalLimits {
public:
    struct ClientLimits {
        std::string name;
        std::optional<GcraParams> rate;
        std::uint32_t max_in_flight = 0;  // 0: no cap
        std::size_t credential = 0;       // index into the credentials
    };
    struct CredentialLimits {
        std::string name;
        std::optional<GcraParams> rate;
    };

    /// Clients in config order (the ClientTable's indices), credentials in name order.
    explicit LocalLimits(const Config& config);
    LocalLimits(const LocalLimits&) = delete;
    LocalLimits& operator=(const LocalLimits&) = delete;

    /// A reload (or a rotated token) builds new limits: the buckets of the clients and
    /// credentials that keep their names, and the upstream holds, continue from `previous`, so a
    /// reload neither refills a bucket nor lifts a hold. In-flight counts start afresh: requests
    /// still running under the previous snapshot release their places there.
    void carry_over(const LocalLimits& previous) noexcept;

    [[nodiscard]] const ClientLimits& client(std::size_t i) const noexcept { return clients_[i]; }
    [[nodiscard]] const CredentialLimits& credential(std::size_t i) const noexcept { return credentials_[i]; }
    [[nodiscard]] std::size_t client_count() const noexcept { return clients_.size(); }
    [[nodiscard]] std::size_t credential_count() const noexcept { return credentials_.size(); }
    /// Whether any rate, in-flight cap exists (false: the stage has nothing to do but holds).
    [[nodiscard]] bool any_limit() const noexcept { return any_limit_; }

    RateCell& client_rate(std::size_t i) noexcept { return client_rate_[i]; }
    RateCell& credential_rate(std::size_t i) noexcept { return credential_rate_[i]; }
    InFlightCell& in_flight(std::size_t i) noexcept { return in_flight_[i]; }
    HoldCell& hold(std::size_t credential) noexcept { return hold_[credential]; }

private:
    std::vector<ClientLimits> clients_;
    std::vector<CredentialLimits> credentials_;
    bool any_limit_ = false;
    std::vector<RateCell> client_rate_;
    std::vector<RateCell> credential_rate_;
    std::vector<InFlightCell> in_flight_;
    std::vector<HoldCell> hold_;
};

}  // namespace giosg::limits
