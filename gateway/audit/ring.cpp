#include "audit/ring.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace giosg {

AuditRing::AuditRing(std::size_t capacity, std::size_t byte_budget)
    : slots_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)), mask_(slots_.size() - 1), budget_(byte_budget) {}

void AuditRing::set_bounds(std::size_t capacity, std::size_t byte_budget) {
    slots_ = std::vector<std::string>(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity));
    mask_ = slots_.size() - 1;
    budget_.store(byte_budget, std::memory_order_relaxed);
}

bool AuditRing::try_reserve() noexcept {
    // seq_cst: see drain(). (A plain load on x86.)
    const auto used = head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_seq_cst);
    if (used + reserved_ >= slots_.size()) return false;
    // Stale values of bytes_ and tail_ only overstate what is queued: never a false yes.
    const auto held = bytes_.load(std::memory_order_relaxed) + (reserved_ + 1) * kReservedBytes;
    if (held > budget_.load(std::memory_order_relaxed)) return false;
    ++reserved_;
    reserved_published_.store(reserved_, std::memory_order_relaxed);
    return true;
}

void AuditRing::release_reservation() noexcept {
    if (reserved_ == 0) return;
    --reserved_;
    reserved_published_.store(reserved_, std::memory_order_relaxed);
}

std::uint64_t AuditRing::try_push(std::string& line, bool reserved) noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    if (reserved && reserved_ != 0) {
        --reserved_;  // its slot was counted free at reservation: the check below cannot fail
        reserved_published_.store(reserved_, std::memory_order_relaxed);
    } else {
        const auto tail = tail_.load(std::memory_order_acquire);
        if (head - tail + reserved_ >= slots_.size()) return 0;
        if (bytes_.load(std::memory_order_relaxed) + reserved_ * kReservedBytes + line.size() >
            budget_.load(std::memory_order_relaxed))
            return 0;
    }
    bytes_.fetch_add(line.size(), std::memory_order_relaxed);
    slots_[head & mask_].swap(line);  // the caller gets the slot's old (cleared) buffer back to reuse
    line.clear();
    head_.store(head + 1, std::memory_order_release);
    return head + 1;
}

void AuditRing::count_refused(std::chrono::system_clock::time_point ts) {
    refused_total_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(refused_mutex_);
    if (refused_.count++ == 0) refused_.from = ts;
    refused_.to = ts;
}

AuditRing::Refused AuditRing::take_refused() {
    std::lock_guard lock(refused_mutex_);
    return std::exchange(refused_, Refused{});
}

void AuditRing::count_wait(std::chrono::steady_clock::duration waited) noexcept {
    waits_.fetch_add(1, std::memory_order_relaxed);
    wait_ns_.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count()),
        std::memory_order_relaxed);
}

double AuditRing::fill() const noexcept {
    const auto reserved = reserved_published_.load(std::memory_order_relaxed);
    const double slots = static_cast<double>(queued_records() + reserved) / static_cast<double>(slots_.size());
    const auto budget = budget_.load(std::memory_order_relaxed);
    const double bytes = budget == 0 ? 1.0
                                     : static_cast<double>(queued_bytes() + reserved * kReservedBytes) /
                                           static_cast<double>(budget);
    return std::max(slots, bytes);
}

void AuditRing::set_progress_callback(std::function<void()> callback) {
    std::lock_guard lock(callback_mutex_);
    progress_ = std::move(callback);
}

void AuditRing::set_room_callback(std::function<void()> callback) {
    std::lock_guard lock(callback_mutex_);
    room_ = std::move(callback);
}

void AuditRing::notify_progress() {
    std::lock_guard lock(callback_mutex_);
    if (progress_) progress_();
}

void AuditRing::notify_room() {
    std::lock_guard lock(callback_mutex_);
    if (room_) room_();
}

}  // namespace giosg
