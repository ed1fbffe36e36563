#pragma once
// The per-worker queue between a worker and the audit writer's thread: one producer, one consumer,
// no lock on the request path. The writer also publishes per ring how far its records are durable.
//
// Room (docs/audit.md "Under load"): before a request is forwarded (or refused) its worker
// reserves room for its record, so that the record, pushed when the response is done, always
// fits. The ring is bounded twice: by slots and by bytes (`audit.queue_bytes` shared out over the
// rings). A reservation counts as kReservedBytes until its record's real size is known.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace giosg {

class AuditWriter;

/// Bounded lock-free SPSC queue of strings. Capacity is rounded up to a power of two.
class AuditRing {
public:
    /// What a reservation counts against the byte bound until its record is pushed: above a
    /// typical record (300-450 bytes), so the bound is rarely overshot by a long path.
    static constexpr std::size_t kReservedBytes = 1024;
    /// Slots that keep their buffer once drained, to hand back to the worker's next push: enough
    /// for a queue that keeps up (~640 KiB per ring). The other slots free theirs, so a ring of
    /// 100 000 slots does not hold 100 000 dormant buffers once it has wrapped.
    static constexpr std::size_t kKeptBuffers = 1024;

    explicit AuditRing(std::size_t capacity, std::size_t byte_budget = SIZE_MAX);
    /// Re-sizes an empty ring (before anything was pushed): at most `capacity` slots (rounded
    /// up to a power of two) and `byte_budget` bytes.
    void set_bounds(std::size_t capacity, std::size_t byte_budget);

    // ---- producer side (the worker's thread) ----
    /// Reserves room for one record; false when the ring is full (in slots or bytes).
    bool try_reserve() noexcept;
    /// Gives back a reservation that will not be used.
    void release_reservation() noexcept;
    /// Pushes a record; with `reserved` it uses one reservation and always succeeds. Returns the
    /// record's ticket (1, 2, ... in push order), or 0 when full (the line is left untouched).
    std::uint64_t try_push(std::string& line, bool reserved = false) noexcept;
    /// A record that could not be queued (on_failure "allow" only); the writer writes a gap.
    void count_dropped() noexcept { dropped_.fetch_add(1, std::memory_order_relaxed); }
    /// A request answered 503 audit_unavailable for want of room: summed up in a backlog record.
    void count_refused(std::chrono::system_clock::time_point ts);
    /// Asks the writer to call the room callback after its next drain of this ring.
    void want_room() noexcept { room_wanted_.store(true, std::memory_order_seq_cst); }
    /// Producer-side counters for the metrics: waits for room, their total time, refusals.
    void count_wait(std::chrono::steady_clock::duration waited) noexcept;

    // ---- consumer side (the writer's thread) ----
    /// Calls `take(line)` for queued lines in order until `max_bytes` have been taken (at least
    /// one line when any is queued); returns how many.
    template <typename F>
    std::size_t drain(F&& take, std::size_t max_bytes = SIZE_MAX);
    /// Records dropped since the last call.
    std::uint64_t take_dropped() noexcept { return dropped_.exchange(0, std::memory_order_relaxed); }
    struct Refused {
        std::uint64_t count = 0;
        std::chrono::system_clock::time_point from{}, to{};
    };
    /// Refusals since the last call.
    Refused take_refused();

    // ---- anyone (admin thread: readiness and metrics) ----
    [[nodiscard]] std::size_t queued_records() const noexcept {
        return head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::size_t queued_bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
    [[nodiscard]] std::size_t byte_budget() const noexcept { return budget_.load(std::memory_order_relaxed); }
    /// How full the ring is, 0..1 (or a little above): the larger of slots and bytes, with the
    /// reservations held.
    [[nodiscard]] double fill() const noexcept;
    [[nodiscard]] std::uint64_t waits() const noexcept { return waits_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t wait_ns() const noexcept { return wait_ns_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t refused_total() const noexcept { return refused_total_.load(std::memory_order_relaxed); }

    /// How many of this ring's records are on disk (fsynced under "always"); set by the writer.
    [[nodiscard]] std::uint64_t durable() const noexcept { return durable_.load(std::memory_order_acquire); }
    /// Called by the writer thread when durable() advanced or the writer's health changed
    /// ("always" mode only). The callback must be thread-safe (it posts to its worker).
    void set_progress_callback(std::function<void()> callback);
    /// Called by the writer thread after it drained this ring while the producer wanted room.
    /// Thread-safe like the progress callback.
    void set_room_callback(std::function<void()> callback);

private:
    friend class AuditWriter;
    void notify_progress();
    void notify_room();

    std::vector<std::string> slots_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> head_{0};  // next slot to write (producer)
    std::size_t reserved_ = 0;                      // producer only
    std::atomic<std::size_t> reserved_published_{0};  // reserved_, for fill()
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> waits_{0};
    std::atomic<std::uint64_t> wait_ns_{0};
    std::atomic<std::uint64_t> refused_total_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};  // next slot to read (consumer)
    std::atomic<std::size_t> bytes_{0};             // bytes of queued lines (both sides)
    std::atomic<std::size_t> budget_;   // set before start; atomic for the admin thread's reads
    std::atomic<bool> room_wanted_{false};
    alignas(64) std::atomic<std::uint64_t> durable_{0};
    std::uint64_t drained_ = 0;                     // writer thread only
    std::uint64_t refused_seen_ = 0;                // writer thread only: refused_total_ at the last take
    std::mutex refused_mutex_;                      // refusals only: the overload path, never the request path
    Refused refused_;
    std::mutex callback_mutex_;                     // writer thread vs. registration
    std::function<void()> progress_;
    std::function<void()> room_;
};

template <typename F>
std::size_t AuditRing::drain(F&& take, std::size_t max_bytes) {
    const auto tail = tail_.load(std::memory_order_relaxed);
    const auto head = head_.load(std::memory_order_acquire);
    std::size_t bytes = 0;
    auto i = tail;
    for (; i != head && (i == tail || bytes < max_bytes); ++i) {
        auto& slot = slots_[i & mask_];
        bytes += slot.size();
        take(slot);
        if ((i & mask_) < kKeptBuffers) slot.clear();
        else std::string().swap(slot);
    }
    bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    // seq_cst, with the load in try_reserve() and both sides of room_wanted_: a producer that asks
    // for room either sees this room or is seen asking (AuditWriter::take_from_rings).
    tail_.store(i, std::memory_order_seq_cst);
    return i - tail;
}

}  // namespace giosg
