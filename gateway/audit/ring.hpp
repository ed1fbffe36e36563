#pragma once
// The per-worker queue between a worker and the audit writer's thread: one producer, one consumer,
// no lock on the request path. The writer also publishes per ring how far its records are durable.
#include <atomic>
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
    explicit AuditRing(std::size_t capacity);
    /// Producer side. Returns the record's ticket (1, 2, ... in push order), or 0 when full (the
    /// line is left untouched).
    std::uint64_t try_push(std::string& line) noexcept;
    /// Consumer side: calls `take(line)` for every queued line in order; returns how many.
    template <typename F>
    std::size_t drain(F&& take);

    /// How many of this ring's records are on disk (fsynced under "always"); set by the writer.
    [[nodiscard]] std::uint64_t durable() const noexcept { return durable_.load(std::memory_order_acquire); }
    /// The highest ticket whose record was dropped (queue bound during an outage); 0 if none.
    /// A ticket at or below it may be counted in durable() without being on disk.
    [[nodiscard]] std::uint64_t lost_through() const noexcept { return lost_through_.load(std::memory_order_acquire); }
    /// Called by the writer thread when durable() advanced or the writer's health changed
    /// ("always" mode only). The callback must be thread-safe (it posts to its worker).
    void set_progress_callback(std::function<void()> callback);

private:
    friend class AuditWriter;
    void notify_progress();

    std::vector<std::string> slots_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> head_{0};  // next slot to write (producer)
    alignas(64) std::atomic<std::size_t> tail_{0};  // next slot to read (consumer)
    alignas(64) std::atomic<std::uint64_t> durable_{0};
    std::atomic<std::uint64_t> lost_through_{0};
    std::uint64_t drained_ = 0;                     // writer thread only
    std::mutex callback_mutex_;                     // writer thread vs. registration
    std::function<void()> progress_;
};

template <typename F>
std::size_t AuditRing::drain(F&& take) {
    const auto tail = tail_.load(std::memory_order_relaxed);
    const auto head = head_.load(std::memory_order_acquire);
    for (auto i = tail; i != head; ++i) {
        auto& slot = slots_[i & mask_];
        take(slot);
        slot.clear();
    }
    tail_.store(head, std::memory_order_release);
    return head - tail;
}

}  // namespace giosg
