#include "audit/writer.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "audit/record.hpp"
#include "audit/signing.hpp"
#include "audit/syslog.hpp"
#include "common/format.hpp"

namespace giosg {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kTailScanBytes = 1u << 20;  // a record line is far shorter than this
constexpr auto kRotationRetry = std::chrono::seconds(1);
constexpr auto kFallbackLockWait = std::chrono::milliseconds(100);

std::string rotated_name(const fs::path& active, std::uint64_t last_seq) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(last_seq));
    return active.filename().string() + "." + digits;
}

/// `<name>.<12 or more digits>`: a file this writer rotated.
bool is_rotated_name(const std::string& candidate, const std::string& active_name) {
    if (candidate.size() < active_name.size() + 13 || !candidate.starts_with(active_name) ||
        candidate[active_name.size()] != '.')
        return false;
    return std::all_of(candidate.begin() + static_cast<std::ptrdiff_t>(active_name.size()) + 1, candidate.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<fs::path> rotated_files(const fs::path& active) {
    std::vector<fs::path> found;
    std::error_code ec;
    const auto name = active.filename().string();
    for (const auto& entry : fs::directory_iterator(active.parent_path(), ec)) {
        if (is_rotated_name(entry.path().filename().string(), name)) found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());  // fixed-width seq: name order is chain order
    return found;
}

/// Where a file's chain ends.
struct FileTail {
    std::uint64_t size = 0;
    std::uint64_t torn_bytes = 0;           // bytes after the last '\n'
    std::optional<audit::ChainState> state; // from the last complete line
    bool last_line_unchained = false;       // a complete last line that is not a chained record
};

FileTail read_tail(const fs::path& file) {
    FileTail tail;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot read audit file " + file.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(), "cannot stat audit file " + file.string());
    }
    tail.size = static_cast<std::uint64_t>(st.st_size);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(tail.size, kTailScanBytes));
    std::string buffer(want, '\0');
    std::size_t got = 0;
    while (got < want) {
        const auto n = ::pread(fd, buffer.data() + got, want - got, static_cast<off_t>(tail.size - want + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buffer.resize(got);
    const auto last_newline = buffer.rfind('\n');
    if (last_newline == std::string::npos) {
        tail.torn_bytes = buffer.size();
        return tail;
    }
    tail.torn_bytes = buffer.size() - last_newline - 1;
    const auto line_start = buffer.rfind('\n', last_newline == 0 ? std::string::npos : last_newline - 1);
    const std::string_view line =
        std::string_view(buffer).substr(line_start == std::string::npos ? 0 : line_start + 1,
                                        last_newline - (line_start == std::string::npos ? 0 : line_start + 1));
    const auto split = audit::split_chained_line(line);
    boost::system::error_code ec;
    (void)boost::json::parse(boost::json::string_view(line.data(), line.size()), ec);
    if (!split || ec) {
        tail.last_line_unchained = true;
        return tail;
    }
    audit::ChainState state;
    state.seq = split->seq;
    std::copy(split->hash.begin(), split->hash.end(), state.last_hash.begin());
    tail.state = state;
    return tail;
}

void append_uint(std::uint64_t v, std::string& out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void append_ts_field(std::string& out) {
    out.append("\"ts\":\"");
    append_rfc3339_ms(std::chrono::system_clock::now(), out);
    out.push_back('"');
}
}  // namespace

std::optional<std::string> audit_path_problem(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) {
        const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        if (!fs::is_directory(folder, ec)) return "cannot create " + path.string() + ": its folder does not exist";
        if (::access(folder.c_str(), W_OK | X_OK) != 0)
            return "cannot create " + path.string() + ": " + errno_text(errno);
        return std::nullopt;
    }
    if (fs::is_directory(status)) return path.string() + " is a directory";
    if (::access(path.c_str(), W_OK) != 0)
        return "cannot write " + path.string() + ": " + errno_text(errno);
    if (!fs::is_regular_file(status)) return std::nullopt;  // /dev/null, a FIFO: nothing to read back
    try {
        const FileTail tail = read_tail(path);
        // A file holding only a torn line is started over; a torn last line after records is sealed.
        if (tail.last_line_unchained)
            return path.string() +
                   " does not end with a chained record (written by another program or an older version); move it "
                   "away to start a new chain";
    } catch (const std::system_error& e) {
        return e.what();
    }
    return std::nullopt;
}

// ---- AuditRing -------------------------------------------------------------------------------

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

// ---- AuditWriter -----------------------------------------------------------------------------

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
        fd_ = STDOUT_FILENO;  // a new chain on every start: stdout's past is not ours to read
    } else {
        recover_chain();
    }
    if (options_.syslog) syslog_ = std::make_unique<SyslogShipper>(*options_.syslog);
    last_sync_ = last_checkpoint_ = Clock::now();
    checkpoint_seq_ = chain_.seq;
}

AuditWriter::~AuditWriter() {
    stop();
    if (fd_ >= 0 && !options_.to_stdout) ::close(fd_);
}

// Continues the chain where the files on disk end (README "Rotation").
void AuditWriter::recover_chain() {
    const auto& path = options_.path;
    if (auto problem = audit_path_problem(path)) throw std::runtime_error("audit.path: " + *problem);
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (exists && !fs::is_regular_file(path, ec)) {
        // /dev/null, a FIFO to a log shipper, ...: nothing to read back, rotate or fsync.
        if (!open_file()) throw std::system_error(errno, std::generic_category(), "cannot open audit file " + path.string());
        return;
    }
    FileTail tail;
    if (exists) tail = read_tail(path);
    if (exists && tail.size > 0 && !tail.state && tail.torn_bytes == tail.size) {
        // Not one complete line: a crash while the file's first line was being written. Nothing
        // in it was ever a record; start it over.
        spdlog::warn("audit: {} holds only {} bytes of a torn line; discarding them", path.string(), tail.size);
        if (::truncate(path.c_str(), 0) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot truncate audit file " + path.string());
        tail = FileTail{};
    }
    if (tail.size > 0 && tail.torn_bytes == 0) {
        chain_ = *tail.state;  // intact: append to it
        file_bytes_ = tail.size;
        if (!open_file())
            throw std::system_error(errno, std::generic_category(), "cannot open audit file " + path.string());
        return;
    }
    if (tail.size > 0) {
        // A torn last line (a crash mid-write): seal the file as it is and account for the bytes.
        chain_ = *tail.state;
        const auto sealed = path.parent_path() / rotated_name(path, chain_.seq);
        fs::rename(path, sealed, ec);
        if (ec) throw std::runtime_error("cannot rotate audit file " + path.string() + ": " + ec.message());
        spdlog::warn("audit: {} ended with a torn line of {} bytes; sealed it as {}", path.string(), tail.torn_bytes,
                     sealed.filename().string());
        std::string fields = "\"kind\":\"rotation\",";
        append_ts_field(fields);
        fields.append(",\"reason\":\"recovered\",\"previous_file\":");
        fields.push_back('"');
        append_json_escaped(sealed.filename().string(), fields);
        fields.append("\",\"previous_bytes\":");
        append_uint(tail.size, fields);
        fields.append(",\"torn_bytes\":");
        append_uint(tail.torn_bytes, fields);
        chain_fields(fields);
    } else if (const auto previous = rotated_files(path); !previous.empty()) {
        // No active file (deleted, or a crash between rename and create): link to the newest sealed one.
        const auto last = read_tail(previous.back());
        if (last.state) {
            chain_ = *last.state;
            std::string fields = "\"kind\":\"rotation\",";
            append_ts_field(fields);
            fields.append(",\"reason\":\"restart\",\"previous_file\":\"");
            append_json_escaped(previous.back().filename().string(), fields);
            fields.append("\",\"previous_bytes\":");
            append_uint(last.size, fields);
            fields.append(",\"torn_bytes\":");
            append_uint(last.torn_bytes, fields);
            chain_fields(fields);
        }
    }
    if (!open_file()) throw std::system_error(errno, std::generic_category(), "cannot open audit file " + path.string());
    file_bytes_ = 0;
    if (!pending_.empty()) {
        // The link to the previous file goes to disk before anything else does.
        if (!flush_pending() || !sync()) throw std::runtime_error("cannot write audit file " + path.string());
    }
}

bool AuditWriter::open_file() {
    const int fd = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
        file_bytes_ = static_cast<std::uint64_t>(st.st_size);
        regular_file_ = S_ISREG(st.st_mode);
    }
    fd_ = fd;
    return true;
}

AuditRing& AuditWriter::add_producer() {
    rings_.push_back(std::make_unique<AuditRing>(options_.ring_capacity));
    return *rings_.back();
}

std::uint64_t AuditWriter::submit(AuditRing& ring, std::string& line) noexcept {
    if (const auto ticket = ring.try_push(line); ticket != 0) {
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
    // Ring full (the disk is slower than the request rate): chain and write synchronously rather
    // than drop. Rare; it blocks this worker for one write (and one fsync under "always").
    try {
        // Bounded: a worker must not hang behind a writer stuck in a slow fsync. (A try_lock
        // loop rather than std::timed_mutex: ThreadSanitizer does not follow the latter's
        // pthread_mutex_clocklock and reports false races.)
        std::unique_lock lock(write_mutex_, std::try_to_lock);
        for (const auto give_up = Clock::now() + kFallbackLockWait; !lock.owns_lock() && Clock::now() < give_up;) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            lock.try_lock();
        }
        if (!lock.owns_lock()) {
            fallback_dropped_.fetch_add(1, std::memory_order_relaxed);
            dropped_.fetch_add(1, std::memory_order_relaxed);
            line.clear();
            return 0;
        }
        chain_record(line);
        if (flush_pending() && options_.fsync == Fsync::always) sync();
    } catch (...) {
        // Allocation failure while chaining: nothing sensible is left to do with this record.
        write_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    line.clear();
    return 0;
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
    // Records held from an outage go first, so that space freed since is used before new ones
    // are queued behind them (and possibly dropped).
    const bool held_written = flush_pending();
    pending_dropped_ += fallback_dropped_.exchange(0);
    std::size_t taken = 0;
    for (auto& ring : rings_) {
        std::uint64_t ticket = ring->drained_;
        std::uint64_t lost = 0;
        ring->drain([&](std::string& line) {
            ++ticket;
            if (!chain_record(line)) lost = ticket;
        });
        taken += static_cast<std::size_t>(ticket - ring->drained_);
        ring->drained_ = ticket;
        if (lost != 0) ring->lost_through_.store(lost, std::memory_order_release);
    }
    const auto now = Clock::now();
    bool ok = held_written && flush_pending();
    if (rotation_requested_.load() && (!regular_file_ || options_.to_stdout)) {
        rotation_requested_.store(false);
        spdlog::info("audit: rotation requested, but {} is not a regular file; nothing to rotate",
                     options_.to_stdout ? std::string("stdout") : options_.path.string());
    }
    const bool rotation_due = regular_file_ && !options_.to_stdout && !final_pass && now >= next_rotation_attempt_ &&
                              (rotation_requested_.load() ||
                               (options_.rotate_bytes != 0 && file_bytes_ >= options_.rotate_bytes));
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

bool AuditWriter::chain_record(std::string_view object_line) {
    if (pending_.size() >= options_.max_pending_bytes) {
        // Writes have been failing for long: bound the memory. The gap record tells the reader.
        ++pending_dropped_;
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    if (pending_dropped_ != 0) {
        std::string fields = "\"kind\":\"gap\",";
        append_ts_field(fields);
        fields.append(",\"dropped\":");
        append_uint(pending_dropped_, fields);
        pending_dropped_ = 0;
        chain_fields(fields);
    }
    audit::append_chained_object(chain_, object_line, pending_);
    return true;
}

void AuditWriter::chain_fields(std::string_view fields) { audit::append_chained(chain_, fields, pending_); }

// Writes pending_ whole. On failure the file is cut back to its last complete line, so a retry
// appends the same bytes and the chain on disk never has a hole or a half line.
bool AuditWriter::flush_pending() {
    if (pending_.empty()) return true;
    if (fd_ < 0 && !open_file()) {
        const int error = errno;
        write_failures_.fetch_add(1, std::memory_order_relaxed);
        if (healthy()) spdlog::critical("audit: cannot open {}: {}", options_.path.string(), errno_text(error));
        set_healthy(false);
        return false;
    }
    std::string_view data = pending_;
    int error = options_.inject_write_errno ? options_.inject_write_errno->load() : 0;
    while (error == 0 && !data.empty()) {
        const auto n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            error = errno;
            break;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    if (error != 0) {
        write_failures_.fetch_add(1, std::memory_order_relaxed);
        if (healthy())
            spdlog::critical("audit: writing {} failed: {}; {} bytes of records held for retry",
                             options_.to_stdout ? std::string("stdout") : options_.path.string(), errno_text(error),
                             pending_.size());
        if (!regular_file_) {
            // A pipe or terminal cannot be cut back: what went out stays out, the rest is retried.
            pending_.erase(0, pending_.size() - data.size());
        } else if (data.size() != pending_.size() && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0) {
            spdlog::critical("audit: cannot cut {} back to its last complete line: {}", options_.path.string(),
                             errno_text(errno));
        }
        set_healthy(false);
        return false;
    }
    std::uint64_t lines = 0;
    for (char c : pending_) lines += c == '\n';
    lines_written_.fetch_add(lines, std::memory_order_relaxed);
    file_bytes_ += pending_.size();
    if (syslog_) {
        std::string_view rest = pending_;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            syslog_->enqueue(rest.substr(0, end));
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        }
    }
    pending_.clear();
    if (pending_.capacity() > (4u << 20)) pending_.shrink_to_fit();
    unsynced_ = true;
    return true;
}

bool AuditWriter::sync() {
    last_sync_ = Clock::now();
    if (options_.to_stdout || fd_ < 0 || !regular_file_) {
        unsynced_ = false;
        return true;
    }
    if (::fdatasync(fd_) != 0) {
        const int error = errno;
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
    std::string ts;
    append_rfc3339_ms(std::chrono::system_clock::now(), ts);
    const auto signature = signer_->sign_hex(audit::checkpoint_message(chain_.seq + 1, chain_.last_hash_view(), ts));
    std::string fields = "\"kind\":\"checkpoint\",\"ts\":\"";
    fields.append(ts).append("\",\"reason\":\"").append(reason);
    fields.append("\",\"key_id\":\"").append(signer_->key_id());
    fields.append("\",\"sig\":\"").append(signature).append("\"");
    chain_fields(fields);
    checkpoint_seq_ = chain_.seq;
    last_checkpoint_ = Clock::now();
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
}

// Seal the current file under a name that never changes and link the next one to it.
void AuditWriter::rotate(std::string_view reason) {
    if (signer_ && chain_.seq > checkpoint_seq_) append_checkpoint("rotation");
    if (!flush_pending() || !sync()) return;
    const auto& path = options_.path;
    const auto sealed = path.parent_path() / rotated_name(path, chain_.seq);
    std::error_code ec;
    if (fs::exists(sealed, ec) || chain_.seq == 0) {
        next_rotation_attempt_ = Clock::now() + kRotationRetry;
        return;  // nothing written since the last rotation
    }
    if (::rename(path.c_str(), sealed.c_str()) != 0) {
        spdlog::error("audit: cannot rotate {}: {}", path.string(), errno_text(errno));
        next_rotation_attempt_ = Clock::now() + kRotationRetry;
        return;
    }
    const auto sealed_bytes = file_bytes_;
    ::close(fd_);
    fd_ = -1;
    rotations_.fetch_add(1, std::memory_order_relaxed);
    std::string fields = "\"kind\":\"rotation\",";
    append_ts_field(fields);
    fields.append(",\"reason\":\"").append(reason).append("\",\"previous_file\":\"");
    append_json_escaped(sealed.filename().string(), fields);
    fields.append("\",\"previous_bytes\":");
    append_uint(sealed_bytes, fields);
    fields.append(",\"torn_bytes\":0");
    chain_fields(fields);
    file_bytes_ = 0;
    if (flush_pending()) sync();  // opens the new file
    spdlog::info("audit: rotated to {} ({} bytes)", sealed.filename().string(), sealed_bytes);
    remove_old_files();
}

void AuditWriter::remove_old_files() {
    if (options_.keep == 0) return;
    const auto files = rotated_files(options_.path);
    if (files.size() <= options_.keep) return;
    for (std::size_t i = 0; i + options_.keep < files.size(); ++i) {
        std::error_code ec;
        fs::remove(files[i], ec);
        if (ec) spdlog::warn("audit: cannot remove old file {}: {}", files[i].string(), ec.message());
    }
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
