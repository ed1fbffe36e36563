#include "audit/writer.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "audit/signing.hpp"
#include "audit/syslog.hpp"
#include "audit/writer_records.hpp"
#include "common/format.hpp"

namespace giosg {

namespace fs = std::filesystem;

namespace {
constexpr auto kRotationRetry = std::chrono::seconds(1);
// Each ring gets at least this much, however many workers share audit.queue_bytes.
constexpr std::size_t kMinRingBytes = 16 * AuditRing::kReservedBytes;
constexpr int kMaxBatchesPerPass = 16;
constexpr std::size_t kSlotBufferBytes = 512;  // a used slot's buffer (server/record_stage.cpp reserves this)
}  // namespace

AuditWriter::Options AuditWriter::Options::from_config(const AuditConfig& config) {
    Options options;
    options.path = config.path;
    options.to_stdout = config.to_stdout;
    options.fsync = config.fsync;
    options.fsync_interval = config.fsync_interval;
    options.rotate_bytes = config.rotate_bytes;
    options.keep = config.keep;
    options.signing_key_file = config.signing_key_file;
    options.checkpoint_interval = config.checkpoint_interval;
    options.queue_bytes = config.queue_bytes;
    if (config.syslog) {
        auto syslog = std::make_shared<SyslogOptions>();
        syslog->host = config.syslog->address.host;
        syslog->port = config.syslog->address.port;
        syslog->tls = config.syslog->tls;
        syslog->ca_file = config.syslog->ca_file;
        syslog->facility = config.syslog->facility;
        syslog->queue_limit = config.syslog->queue;
        options.syslog = std::move(syslog);
    }
    return options;
}

AuditWriter::AuditWriter(Options options) : options_(std::move(options)) {
    if (options_.signing_key_file) {
        try {
            signer_ = std::make_unique<audit::SigningKey>(audit::SigningKey::load(*options_.signing_key_file));
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string("audit.signing_key_file: ") + e.what());
        }
    }
    if (options_.to_stdout) {
        file_.use_stdout();  // a new chain on every start: stdout's past is not ours to read
    } else {
        recover_chain();
    }
    if (options_.syslog) syslog_ = std::make_unique<SyslogShipper>(*options_.syslog);
    last_sync_ = last_checkpoint_ = Clock::now();
    checkpoint_seq_ = chain_.seq;
}

AuditWriter::~AuditWriter() { stop(); }

// Continues the chain where the files on disk end (README "Rotation").
void AuditWriter::recover_chain() {
    const auto& path = options_.path;
    if (auto problem = audit_path_problem(path)) throw std::runtime_error("audit.path: " + *problem);
    const auto open_or_throw = [&] {
        if (const int error = file_.open(path); error != 0)
            throw std::system_error(error, std::generic_category(), "cannot open audit file " + path.string());
    };
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (exists && !fs::is_regular_file(path, ec)) {
        // /dev/null, a FIFO to a log shipper, ...: nothing to read back, rotate or fsync.
        open_or_throw();
        return;
    }
    audit::FileTail tail;
    if (exists) tail = audit::read_tail(path);
    if (exists && tail.size > 0 && !tail.state && tail.torn_bytes == tail.size) {
        // Not one complete line: a crash while the file's first line was being written. Nothing
        // in it was ever a record; start it over.
        spdlog::warn("audit: {} holds only {} bytes of a torn line; discarding them", path.string(), tail.size);
        if (::truncate(path.c_str(), 0) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot truncate audit file " + path.string());
        tail = audit::FileTail{};
    }
    if (tail.size > 0 && tail.torn_bytes == 0) {
        chain_ = *tail.state;  // intact: append to it
        open_or_throw();
        return;
    }
    if (tail.size > 0) {
        // A torn last line (a crash mid-write): seal the file as it is and account for the bytes.
        chain_ = *tail.state;
        const auto sealed = path.parent_path() / audit::rotated_name(path, chain_.seq);
        fs::rename(path, sealed, ec);
        if (ec) throw std::runtime_error("cannot rotate audit file " + path.string() + ": " + ec.message());
        spdlog::warn("audit: {} ended with a torn line of {} bytes; sealed it as {}", path.string(), tail.torn_bytes,
                     sealed.filename().string());
        chain_fields(audit::rotation_fields("recovered", sealed.filename().string(), tail.size, tail.torn_bytes));
    } else if (const auto previous = audit::rotated_files(path); !previous.empty()) {
        // No active file (deleted, or a crash between rename and create): link to the newest sealed one.
        const auto last = audit::read_tail(previous.back());
        if (last.state) {
            chain_ = *last.state;
            chain_fields(
                audit::rotation_fields("restart", previous.back().filename().string(), last.size, last.torn_bytes));
        }
    }
    open_or_throw();  // a new, empty file
    if (!pending_.empty()) {
        // The link to the previous file goes to disk before anything else does.
        if (!flush_pending() || !sync()) throw std::runtime_error("cannot write audit file " + path.string());
    }
}

AuditRing& AuditWriter::add_producer() {
    rings_.push_back(std::make_unique<AuditRing>(options_.ring_capacity));
    // A queued record holds its own buffer (~512 bytes), so the slots are bounded by the byte
    // share too: the memory of a full queue stays near audit.queue_bytes however many workers
    // there are. Drained, only the first AuditRing::kKeptBuffers slots keep theirs.
    const auto share = std::max(options_.queue_bytes / rings_.size(), kMinRingBytes);
    const auto slots = std::min(options_.ring_capacity, std::max<std::size_t>(share / kSlotBufferBytes, 16));
    for (auto& ring : rings_) ring->set_bounds(slots, share);
    return *rings_.back();
}

std::uint64_t AuditWriter::submit(AuditRing& ring, std::string& line, bool reserved) noexcept {
    const auto ticket = ring.try_push(line, reserved);
    if (ticket == 0) {
        // No room and none reserved (on_failure "allow", or a caller outside the server): the
        // record is lost, and the chain says so with a gap record (docs/audit.md "Under load").
        ring.count_dropped();
        dropped_.fetch_add(1, std::memory_order_relaxed);
        line.clear();
        return 0;
    }
    if (options_.fsync == Fsync::always) {
        // Someone waits for this record: wake the writer now instead of at its next tick.
        wake_requested_.store(true);
        if (writer_sleeping_.load()) {
            std::lock_guard lock(wake_mutex_);
            wake_.notify_one();
        }
    }
    return ticket;
}

void AuditWriter::want_room(AuditRing& ring) noexcept {
    ring.want_room();
    wake_requested_.store(true);
    if (writer_sleeping_.load()) {
        std::lock_guard lock(wake_mutex_);
        wake_.notify_one();
    }
}

void AuditWriter::request_rotation() noexcept {
    rotation_requested_.store(true);
    wake_requested_.store(true);  // one prompt pass; the flag itself never keeps the writer awake
    std::lock_guard lock(wake_mutex_);
    wake_.notify_one();
}

void AuditWriter::start() {
    thread_ = std::thread([this] { run(); });
}

void AuditWriter::stop() {
    {
        std::lock_guard lock(wake_mutex_);
        if (stopped_) return;
        stopped_ = true;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lock(write_mutex_);
        pass(true);  // lines queued after the thread's last pass (or when it never ran)
    }
    if (syslog_) syslog_->stop();
}

double AuditWriter::queue_fill() const noexcept {
    double fullest = 0;
    for (const auto& ring : rings_) fullest = std::max(fullest, ring->fill());
    return fullest;
}

std::uint64_t AuditWriter::queued_records() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& ring : rings_) sum += ring->queued_records();
    return sum;
}

std::uint64_t AuditWriter::queued_bytes() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& ring : rings_) sum += ring->queued_bytes();
    return sum;
}

std::uint64_t AuditWriter::queue_waits() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& ring : rings_) sum += ring->waits();
    return sum;
}

double AuditWriter::queue_wait_seconds() const noexcept {
    std::uint64_t ns = 0;
    for (const auto& ring : rings_) ns += ring->wait_ns();
    return static_cast<double>(ns) / 1e9;
}

std::uint64_t AuditWriter::queue_refused() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& ring : rings_) sum += ring->refused_total();
    return sum;
}

std::uint64_t AuditWriter::syslog_sent() const noexcept { return syslog_ ? syslog_->sent() : 0; }
std::uint64_t AuditWriter::syslog_dropped() const noexcept { return syslog_ ? syslog_->dropped() : 0; }

void AuditWriter::run() {
    if (syslog_) syslog_->start();
    auto idle_wait = options_.flush_interval;
    if (options_.fsync == Fsync::batch) idle_wait = std::min(idle_wait, options_.fsync_interval);
    const auto busy_wait = std::min(idle_wait, options_.busy_flush_interval);
    auto wait = idle_wait;
    for (;;) {
        bool stop_now = false;
        {
            std::unique_lock lock(wake_mutex_);
            writer_sleeping_.store(true);
            wake_.wait_for(lock, wait, [this] {
                return stopping_ || wake_requested_.exchange(false);
            });
            writer_sleeping_.store(false);
            stop_now = stopping_;
        }
        if (stop_now) return;  // stop() makes the final pass
        std::lock_guard lock(write_mutex_);
        wait = pass(false) != 0 ? busy_wait : idle_wait;
    }
}

// One round: take what the workers queued, write, fsync, checkpoint, rotate, tell the waiters.
std::size_t AuditWriter::pass(bool final_pass) {
    const bool was_healthy = healthy();
    // Records held from a failed write go first; while they cannot be written, nothing more is
    // taken: the rest waits in the rings, which are the bounded queue.
    bool ok = flush_pending();
    std::size_t taken = 0;
    // Bounded, so that fsync, checkpoints and rotation still come round while workers outpace us.
    for (int batches = 0; ok && (final_pass || batches < kMaxBatchesPerPass); ++batches) {
        const auto batch = take_from_rings();
        taken += batch;
        if (pending_.empty()) break;
        ok = flush_pending();  // one write(2) of up to ~batch_bytes
        if (batch == 0) break;
    }
    const auto now = Clock::now();

    if (rotation_requested_.load() && (!file_.regular() || options_.to_stdout)) {
        rotation_requested_.store(false);
        spdlog::info("audit: rotation requested, but {} is not a regular file; nothing to rotate",
                     options_.to_stdout ? std::string("stdout") : options_.path.string());
    }
    const bool rotation_due = file_.regular() && !options_.to_stdout && !final_pass && now >= next_rotation_attempt_ &&
                              (rotation_requested_.load() ||
                               (options_.rotate_bytes != 0 && file_.bytes() >= options_.rotate_bytes));
    // A rotation writes its own checkpoint: then the sealed file always ends with one.
    if (signer_ && ok && !rotation_due && chain_.seq > checkpoint_seq_ &&
        (final_pass || now - last_checkpoint_ >= options_.checkpoint_interval)) {
        append_checkpoint(final_pass ? "shutdown" : "interval");
        ok = flush_pending();
    }
    if (ok && unsynced_) {
        const bool due = final_pass || options_.fsync == Fsync::always ||
                         (options_.fsync == Fsync::batch && now - last_sync_ >= options_.fsync_interval);
        if (due) ok = sync();
    }
    if (ok && rotation_due) {
        rotate(rotation_requested_.exchange(false) ? "signal" : "size");
        ok = healthy();
    }
    if (ok) set_healthy(true);
    publish_durability(was_healthy != healthy());
    return taken;
}

// Chains up to batch_bytes of records from the rings into pending_, with the gap and backlog
// records the workers asked for, and tells a worker waiting for room that there is some.
std::size_t AuditWriter::take_from_rings() {
    std::size_t taken = 0;
    for (auto& ring : rings_) {
        pending_dropped_ += ring->take_dropped();
        if (ring->refused_total_.load(std::memory_order_relaxed) != ring->refused_seen_) {
            ring->refused_seen_ = ring->refused_total_.load(std::memory_order_relaxed);
            if (const auto refused = ring->take_refused(); refused.count != 0)
                chain_fields(audit::backlog_fields(refused.count, refused.from, refused.to));
        }
        if (pending_.size() >= options_.batch_bytes) continue;
        const auto n = ring->drain([this](std::string& line) { chain_record(line); },
                                   options_.batch_bytes - pending_.size());
        ring->drained_ += n;
        taken += n;
        // The tail was stored seq_cst: a worker asking for room (want_room, then try_reserve)
        // either sees the room made here, or this sees its request.
        if (n != 0 && ring->room_wanted_.exchange(false)) ring->notify_room();
    }
    return taken;
}

void AuditWriter::chain_record(std::string_view object_line) {
    if (pending_dropped_ != 0) {
        chain_fields(audit::gap_fields(pending_dropped_));
        pending_dropped_ = 0;
    }
    audit::append_chained_object(chain_, object_line, pending_);
    ++pending_lines_;
}

void AuditWriter::chain_fields(std::string_view fields) {
    audit::append_chained(chain_, fields, pending_);
    ++pending_lines_;
}

// Writes pending_ whole. On failure the file is cut back to its last complete line, so a retry
// appends the same bytes and the chain on disk never has a hole or a half line.
bool AuditWriter::flush_pending() {
    if (pending_.empty()) return true;
    if (!file_.is_open()) {
        if (const int error = file_.open(options_.path); error != 0) {
            write_failures_.fetch_add(1, std::memory_order_relaxed);
            if (healthy()) spdlog::critical("audit: cannot open {}: {}", options_.path.string(), errno_text(error));
            set_healthy(false);
            return false;
        }
    }
    const auto written = file_.append(pending_, options_.inject_write_errno ? options_.inject_write_errno->load() : 0);
    if (written.error != 0) {
        write_failures_.fetch_add(1, std::memory_order_relaxed);
        if (healthy())
            spdlog::critical("audit: writing {} failed: {}; {} bytes of records held for retry",
                             options_.to_stdout ? std::string("stdout") : options_.path.string(),
                             errno_text(written.error), pending_.size());
        if (!file_.regular()) {
            // A pipe or terminal cannot be cut back: what went out stays out, the rest is retried.
            const auto out = static_cast<std::uint64_t>(
                std::count(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(written.bytes), '\n'));
            lines_written_.fetch_add(out, std::memory_order_relaxed);
            pending_lines_ -= out;
            pending_.erase(0, written.bytes);
        } else if (written.bytes != 0 && !file_.cut_back()) {
            spdlog::critical("audit: cannot cut {} back to its last complete line: {}", options_.path.string(),
                             errno_text(errno));
        }
        set_healthy(false);
        return false;
    }
    // Counted as chained: a scan for '\n' here cost about as much as the chaining (bench/README.md).
    lines_written_.fetch_add(pending_lines_, std::memory_order_relaxed);
    pending_lines_ = 0;
    if (syslog_) {
        std::string_view rest = pending_;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            syslog_->enqueue(rest.substr(0, end));
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        }
    }
    pending_.clear();
    if (pending_.capacity() > 2 * options_.batch_bytes + (64u << 10)) pending_.shrink_to_fit();
    unsynced_ = true;
    return true;
}

bool AuditWriter::sync() {
    last_sync_ = Clock::now();
    if (options_.to_stdout || !file_.is_open() || !file_.regular()) {
        unsynced_ = false;
        return true;
    }
    if (const int error = file_.sync_data(); error != 0) {
        write_failures_.fetch_add(1, std::memory_order_relaxed);
        if (healthy()) spdlog::critical("audit: fsync of {} failed: {}", options_.path.string(), errno_text(error));
        set_healthy(false);
        return false;
    }
    fsyncs_.fetch_add(1, std::memory_order_relaxed);
    unsynced_ = false;
    return true;
}

void AuditWriter::append_checkpoint(std::string_view reason) {
    chain_fields(audit::checkpoint_fields(*signer_, chain_, reason));
    checkpoint_seq_ = chain_.seq;
    last_checkpoint_ = Clock::now();
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
}

// Seal the current file under a name that never changes and link the next one to it.
void AuditWriter::rotate(std::string_view reason) {
    if (signer_ && chain_.seq > checkpoint_seq_) append_checkpoint("rotation");
    if (!flush_pending() || !sync()) return;
    const auto& path = options_.path;
    const auto sealed = path.parent_path() / audit::rotated_name(path, chain_.seq);
    std::error_code ec;
    if (fs::exists(sealed, ec) || chain_.seq == 0) {
        next_rotation_attempt_ = Clock::now() + kRotationRetry;
        return;  // nothing written since the last rotation
    }
    const auto sealed_bytes = file_.bytes();
    if (const int error = file_.seal(path, sealed); error != 0) {
        spdlog::error("audit: cannot rotate {}: {}", path.string(), errno_text(error));
        next_rotation_attempt_ = Clock::now() + kRotationRetry;
        return;
    }
    rotations_.fetch_add(1, std::memory_order_relaxed);
    chain_fields(audit::rotation_fields(reason, sealed.filename().string(), sealed_bytes, 0));
    if (flush_pending()) sync();  // opens the new file
    spdlog::info("audit: rotated to {} ({} bytes)", sealed.filename().string(), sealed_bytes);
    audit::remove_old_rotated(path, options_.keep);
}

void AuditWriter::set_healthy(bool healthy) {
    if (healthy_.exchange(healthy) != healthy && healthy)
        spdlog::warn("audit: writing works again; records held during the outage are written");
}

// Every record drained so far is on disk (and fsynced under "always") once pending_ is empty.
void AuditWriter::publish_durability(bool health_changed) {
    const bool durable = pending_.empty() && (options_.fsync != Fsync::always || !unsynced_);
    for (auto& ring : rings_) {
        bool advanced = false;
        if (durable && ring->durable_.load(std::memory_order_relaxed) != ring->drained_) {
            ring->durable_.store(ring->drained_, std::memory_order_release);
            advanced = true;
        }
        if (options_.fsync == Fsync::always && (advanced || health_changed || !healthy())) ring->notify_progress();
    }
}

}  // namespace giosg
