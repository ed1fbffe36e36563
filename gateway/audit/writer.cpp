#include "audit/writer.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <system_error>

namespace giosg {

AuditRing::AuditRing(std::size_t capacity)
    : slots_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)), mask_(slots_.size() - 1) {}

bool AuditRing::try_push(std::string& line) noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    const auto tail = tail_.load(std::memory_order_acquire);
    if (head - tail == slots_.size()) return false;
    slots_[head & mask_].swap(line);  // the caller gets the slot's old (cleared) buffer back to reuse
    line.clear();
    head_.store(head + 1, std::memory_order_release);
    return true;
}

std::size_t AuditRing::drain_into(std::string& out) {
    const auto tail = tail_.load(std::memory_order_relaxed);
    const auto head = head_.load(std::memory_order_acquire);
    for (auto i = tail; i != head; ++i) {
        auto& slot = slots_[i & mask_];
        out.append(slot);
        slot.clear();
    }
    tail_.store(head, std::memory_order_release);
    return head - tail;
}

AuditWriter::AuditWriter(Options options) : options_(std::move(options)) {
    if (options_.to_stdout) {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "cannot open audit file " + options_.path.string());
    owns_fd_ = true;
}

AuditWriter::~AuditWriter() {
    stop();
    if (owns_fd_) ::close(fd_);
}

AuditRing& AuditWriter::add_producer() {
    rings_.push_back(std::make_unique<AuditRing>(options_.ring_capacity));
    return *rings_.back();
}

void AuditWriter::submit(AuditRing& ring, std::string& line) noexcept {
    if (ring.try_push(line)) return;
    // Ring full (the disk is slower than the request rate): append synchronously rather than drop.
    if (write_all(line)) lines_written_.fetch_add(1, std::memory_order_relaxed);
    line.clear();
}

void AuditWriter::start() {
    thread_ = std::thread([this] { run(); });
}

void AuditWriter::stop() {
    {
        std::lock_guard lock(wake_mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::string batch;
    // Lines queued after the thread's last pass (or when it never ran).
    if (const auto n = drain_all(batch); n > 0 && write_all(batch)) lines_written_.fetch_add(n, std::memory_order_relaxed);
}

std::size_t AuditWriter::drain_all(std::string& batch) {
    std::size_t n = 0;
    for (auto& ring : rings_) n += ring->drain_into(batch);
    return n;
}

void AuditWriter::run() {
    std::string batch;
    batch.reserve(1 << 20);
    for (;;) {
        bool stop_now = false;
        {
            std::unique_lock lock(wake_mutex_);
            wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
            stop_now = stopping_;
        }
        batch.clear();
        const auto n = drain_all(batch);
        if (n > 0 && write_all(batch)) lines_written_.fetch_add(n, std::memory_order_relaxed);
        if (stop_now) return;
    }
}

bool AuditWriter::write_all(std::string_view data) noexcept {
    std::lock_guard lock(write_mutex_);
    while (!data.empty()) {
        const auto n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            write_failures_.fetch_add(1, std::memory_order_relaxed);
            spdlog::error("audit: write failed: {}", std::generic_category().message(errno));
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace giosg
