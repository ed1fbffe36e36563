#include "audit/ring.hpp"

#include <bit>
#include <utility>

namespace giosg {

AuditRing::AuditRing(std::size_t capacity)
    : slots_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)), mask_(slots_.size() - 1) {}

std::uint64_t AuditRing::try_push(std::string& line) noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    const auto tail = tail_.load(std::memory_order_acquire);
    if (head - tail == slots_.size()) return 0;
    slots_[head & mask_].swap(line);  // the caller gets the slot's old (cleared) buffer back to reuse
    line.clear();
    head_.store(head + 1, std::memory_order_release);
    return head + 1;
}

void AuditRing::set_progress_callback(std::function<void()> callback) {
    std::lock_guard lock(callback_mutex_);
    progress_ = std::move(callback);
}

void AuditRing::notify_progress() {
    std::lock_guard lock(callback_mutex_);
    if (progress_) progress_();
}

}  // namespace giosg
