#pragma once
// The audit writer. Workers hand finished records to one dedicated thread through a bounded
// single-producer/single-consumer ring each (audit/ring.hpp; no lock on the request path). That
// thread is the only one that writes the file: it chains every record (audit/chain.hpp), writes
// them in batches of up to ~1 MiB per write(2), fsyncs per audit.fsync, appends signed checkpoints
// (audit/writer_records.hpp), rotates files (audit/file_set.hpp) and ships lines to syslog.
//
// Room (docs/audit.md "Under load"): the rings are the queue, bounded by audit.queue_bytes. A
// worker reserves room for a request's record before it forwards or refuses it; the writer never
// drops a record it was given. A worker without room waits (asynchronously, on its own thread)
// or, past audit.queue_wait_ms, answers 503; only under on_failure "allow" does it go on without
// room, and a record that then finds none is counted and reported in a `gap` record.
//
// Durability (audit.fsync "always"): a worker gets a ticket for each record; the writer publishes
// per ring how many of its records are on disk and wakes the worker, which then lets the waiting
// responses go. Every record pending at the moment of an fsync shares it (group commit).
//
// Failure: a write that fails (ENOSPC, EIO, a file that cannot be opened) is rolled back to the
// last complete line and retried on every pass; the records wait in the rings, in order, and the
// writer takes no more until the write succeeds. While that lasts, healthy() is false; with
// on_failure "deny" the gateway forwards nothing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.hpp"
#include "audit/file_set.hpp"
#include "audit/ring.hpp"
#include "config/config.hpp"

namespace giosg {

namespace audit {
class SigningKey;
}
class SyslogShipper;
struct SyslogOptions;

class AuditWriter {
public:
    using Fsync = AuditConfig::Fsync;

    struct Options {
        std::filesystem::path path;         // ignored when to_stdout
        bool to_stdout = false;
        Fsync fsync = Fsync::batch;
        std::chrono::milliseconds fsync_interval{1000};
        std::uint64_t rotate_bytes = 0;     // 0: only rotate() rotates
        unsigned keep = 0;                  // rotated files kept; 0 = all
        std::optional<std::filesystem::path> signing_key_file;
        std::chrono::seconds checkpoint_interval{60};
        std::shared_ptr<const SyslogOptions> syslog;  // null: no syslog output
        /// How long the writer sleeps between passes when the last one found nothing...
        std::chrono::milliseconds flush_interval{20};
        /// ...and while records flow. Short, so that each pass is short: the writer may share a
        /// CPU with a worker, and a 20 ms batch (1 400 records at 70k req/s, ~0.8 ms of hashing
        /// and writing) stalled that worker long enough to double its p99 latency.
        std::chrono::milliseconds busy_flush_interval{2};
        std::size_t ring_capacity = 1u << 16;        // slots per ring (the byte bound usually binds first)
        std::size_t queue_bytes = 64u << 20;         // audit.queue_bytes: all rings together
        std::size_t batch_bytes = 1u << 20;          // records taken per write(2)
        /// Test seam: while it holds a non-zero errno, every write fails with it before touching
        /// the file (as a full disk would). Null in production.
        std::shared_ptr<std::atomic<int>> inject_write_errno;

        /// The writer options for the config's `audit` section.
        static Options from_config(const AuditConfig& config);
    };

    /// Opens the audit file and finds where its chain stands (continuing it; a torn last line is
    /// rotated away). Throws std::runtime_error / std::system_error naming the path when the file
    /// cannot be opened or does not end with a chained record, or the signing key is unusable.
    explicit AuditWriter(Options options);
    ~AuditWriter();  // stop()
    AuditWriter(const AuditWriter&) = delete;
    AuditWriter& operator=(const AuditWriter&) = delete;

    /// One producer per worker thread; call before start(). The rings share queue_bytes evenly.
    AuditRing& add_producer();

    /// Queues one finished record (a JSON object line), using one of the ring's reservations when
    /// `reserved` (then it always fits). Returns the ticket to wait for under Fsync::always (see
    /// AuditRing::durable), or 0 when the ring had no room: the record is then dropped, counted,
    /// and the next record written is a `gap` record saying how many.
    std::uint64_t submit(AuditRing& ring, std::string& line, bool reserved = false) noexcept;

    /// A producer without room: asks for the ring's room callback after the writer's next drain
    /// of it, and wakes the writer now rather than at its next tick. Thread-safe (the producer's).
    void want_room(AuditRing& ring) noexcept;

    void start();
    /// Writes everything queued, a final checkpoint, fsyncs, then stops the thread. Idempotent.
    void stop();
    /// Rotates at the next pass (SIGUSR1). Thread-safe.
    void request_rotation() noexcept;

    /// False while records cannot be written (they are being retried).
    [[nodiscard]] bool healthy() const noexcept { return healthy_.load(std::memory_order_acquire); }
    [[nodiscard]] Fsync fsync_mode() const noexcept { return options_.fsync; }

    [[nodiscard]] std::uint64_t lines_written() const noexcept { return lines_written_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t write_failures() const noexcept { return write_failures_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t fsyncs() const noexcept { return fsyncs_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t rotations() const noexcept { return rotations_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t checkpoints() const noexcept { return checkpoints_.load(std::memory_order_relaxed); }
    /// The queue, over all rings (admin thread: readiness and metrics).
    [[nodiscard]] double queue_fill() const noexcept;    // the fullest ring, 0..1
    [[nodiscard]] std::uint64_t queued_records() const noexcept;
    [[nodiscard]] std::uint64_t queued_bytes() const noexcept;
    [[nodiscard]] std::uint64_t queue_bytes_limit() const noexcept { return options_.queue_bytes; }
    [[nodiscard]] std::uint64_t queue_waits() const noexcept;
    [[nodiscard]] double queue_wait_seconds() const noexcept;
    [[nodiscard]] std::uint64_t queue_refused() const noexcept;
    /// Syslog shipping counters (0 without syslog).
    [[nodiscard]] std::uint64_t syslog_sent() const noexcept;
    [[nodiscard]] std::uint64_t syslog_dropped() const noexcept;

private:
    using Clock = std::chrono::steady_clock;
    void run();
    // Everything below runs with write_mutex_ held.
    std::size_t pass(bool final_pass);  // returns the records taken from the rings
    std::size_t take_from_rings();  // one batch's worth; returns the records taken
    void chain_record(std::string_view object_line);
    void chain_fields(std::string_view fields);
    bool flush_pending();
    bool sync();
    void append_checkpoint(std::string_view reason);
    void rotate(std::string_view reason);
    void recover_chain();
    void publish_durability(bool force_notify);
    void set_healthy(bool healthy);

    Options options_;
    std::unique_ptr<audit::SigningKey> signer_;
    std::unique_ptr<SyslogShipper> syslog_;
    audit::ActiveFile file_;
    audit::ChainState chain_;
    std::string pending_;                   // chained lines not yet written, in order
    std::uint64_t pending_lines_ = 0;       // how many lines pending_ holds
    std::uint64_t pending_dropped_ = 0;     // records dropped since the last gap record
    bool unsynced_ = false;                 // written since the last fsync
    Clock::time_point last_sync_{};
    Clock::time_point last_checkpoint_{};
    std::uint64_t checkpoint_seq_ = 0;      // chain seq at the last checkpoint
    Clock::time_point next_rotation_attempt_{};
    std::vector<std::unique_ptr<AuditRing>> rings_;
    std::thread thread_;

    std::mutex wake_mutex_;                 // the writer's sleep; producers take it only to wake it
    std::condition_variable wake_;
    std::atomic<bool> writer_sleeping_{false};
    std::atomic<bool> wake_requested_{false};
    std::atomic<bool> rotation_requested_{false};
    bool stopping_ = false;
    bool stopped_ = false;

    // Serialises the file, the chain and pending_ between the writer thread and stop()'s final pass.
    std::mutex write_mutex_;
    std::atomic<bool> healthy_{true};
    std::atomic<std::uint64_t> lines_written_{0};
    std::atomic<std::uint64_t> write_failures_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> fsyncs_{0};
    std::atomic<std::uint64_t> rotations_{0};
    std::atomic<std::uint64_t> checkpoints_{0};
};

}  // namespace giosg
