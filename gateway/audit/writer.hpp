#pragma once
// The audit writer: workers hand finished lines to a dedicated thread through one bounded
// single-producer/single-consumer ring each (no lock on the request path); the thread appends
// them to the file in batches at least every flush interval and on shutdown.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace giosg {

/// Bounded lock-free SPSC queue of strings. Capacity is rounded up to a power of two.
class AuditRing {
public:
    explicit AuditRing(std::size_t capacity);
    /// Producer side. False when full (the line is left untouched).
    bool try_push(std::string& line) noexcept;
    /// Consumer side: appends every queued line to `out`; returns how many.
    std::size_t drain_into(std::string& out);

private:
    std::vector<std::string> slots_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> head_{0};  // next slot to write (producer)
    alignas(64) std::atomic<std::size_t> tail_{0};  // next slot to read (consumer)
};

class AuditWriter {
public:
    struct Options {
        std::filesystem::path path;         // ignored when to_stdout
        bool to_stdout = false;
        std::chrono::milliseconds flush_interval{20};
        std::size_t ring_capacity = 1u << 16;
    };

    /// Opens (creates, appends to) the audit file. Throws std::system_error naming the path.
    explicit AuditWriter(Options options);
    ~AuditWriter();  // stop()
    AuditWriter(const AuditWriter&) = delete;
    AuditWriter& operator=(const AuditWriter&) = delete;

    /// One producer per worker thread; call before start().
    AuditRing& add_producer();

    /// Queues one finished line (ending in '\n'). When the worker's ring is full the line is
    /// appended directly with one write(2) on the O_APPEND descriptor: slower, never lost.
    void submit(AuditRing& ring, std::string& line) noexcept;

    void start();
    /// Writes everything queued, then stops the thread. Idempotent.
    void stop();

    [[nodiscard]] std::uint64_t lines_written() const noexcept { return lines_written_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t write_failures() const noexcept { return write_failures_.load(std::memory_order_relaxed); }

private:
    void run();
    std::size_t drain_all(std::string& batch);
    bool write_all(std::string_view data) noexcept;

    Options options_;
    int fd_ = -1;
    bool owns_fd_ = false;
    std::vector<std::unique_ptr<AuditRing>> rings_;
    std::thread thread_;
    std::mutex wake_mutex_;                 // only the writer thread and stop() take it
    // Serialises write(2) between the writer thread and the rare ring-full fallback, so lines
    // never interleave (a pipe on stdout is atomic only up to PIPE_BUF).
    std::mutex write_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> lines_written_{0};
    std::atomic<std::uint64_t> write_failures_{0};
};

}  // namespace giosg
