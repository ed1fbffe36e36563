// The audit writer's integrity and durability behaviour: the chain across restarts and rotated
// files, torn tails, checkpoints, fsync modes, and what happens while writes fail.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "audit/chain.hpp"
#include "audit/signing.hpp"
#include "audit/writer.hpp"

namespace giosg {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));  // torn
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

boost::json::object parse(const std::string& line) { return boost::json::parse(line).as_object(); }

/// Checks seq, prev and hash of every line of `files` (in order, as one chain); returns the
/// parsed records.
std::vector<boost::json::object> chained_records(const std::vector<fs::path>& files) {
    std::vector<boost::json::object> records;
    std::optional<audit::ChainState> chain;
    for (const auto& file : files) {
        const auto text = read_text(file);
        EXPECT_TRUE(text.empty() || text.back() == '\n') << file << " ends with a torn line";
        for (const auto& line : split_lines(text)) {
            const auto split = audit::split_chained_line(line);
            if (!split) {
                ADD_FAILURE() << file << ": not a chained line: " << line;
                continue;
            }
            if (chain) {
                EXPECT_EQ(split->seq, chain->seq + 1) << line;
                EXPECT_EQ(split->prev, chain->last_hash_view()) << line;
            } else if (split->seq == 1) {
                EXPECT_EQ(split->prev, audit::kGenesisPrev);
            }
            const auto hash = audit::compute_hash(*split);
            EXPECT_EQ(split->hash, std::string_view(hash.data(), hash.size())) << line;
            chain = audit::ChainState{split->seq, hash};
            records.push_back(parse(line));
        }
    }
    return records;
}

class AuditWriterIntegrity : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "giosg-writer-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = dir_ / "audit.jsonl";
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    AuditWriter::Options options() const {
        AuditWriter::Options o;
        o.path = path_;
        o.flush_interval = 5ms;
        return o;
    }

    static void submit(AuditWriter& writer, AuditRing& ring, int n) {
        std::string line = "{\"n\":" + std::to_string(n) + "}\n";
        writer.submit(ring, line);
    }

    std::vector<fs::path> rotated() const {
        std::vector<fs::path> found;
        for (const auto& entry : fs::directory_iterator(dir_)) {
            const auto name = entry.path().filename().string();
            if (name.starts_with("audit.jsonl.")) found.push_back(entry.path());
        }
        std::sort(found.begin(), found.end());
        return found;
    }

    /// Rotated files then the active one: the whole chain in order.
    std::vector<fs::path> all_files() const {
        auto files = rotated();
        files.push_back(path_);
        return files;
    }

    template <typename Predicate>
    static bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 2000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!predicate()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(2ms);
        }
        return true;
    }

    fs::path dir_;
    fs::path path_;
};

TEST_F(AuditWriterIntegrity, FirstRecordOfANewChainHasSeqOneAndAZeroPrev) {
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, 1);
    }
    const auto records = chained_records({path_});
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("seq").as_int64(), 1);
    EXPECT_EQ(records[0].at("prev").as_string(), audit::kGenesisPrev);
    EXPECT_EQ(records[0].at("n").as_int64(), 1);
}

TEST_F(AuditWriterIntegrity, RotationOnRequestSealsTheFileAndLinksTheNextOne) {
    AuditWriter writer(options());
    auto& ring = writer.add_producer();
    writer.start();
    for (int i = 0; i < 5; ++i) submit(writer, ring, i);
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 5; }));
    const auto sealed_size = fs::file_size(path_);
    writer.request_rotation();
    ASSERT_TRUE(eventually([&] { return writer.rotations() == 1; }));
    submit(writer, ring, 5);
    writer.stop();

    const auto files = rotated();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].filename().string(), "audit.jsonl.000000000005");
    EXPECT_EQ(fs::file_size(files[0]), sealed_size);
    const auto records = chained_records(all_files());
    ASSERT_EQ(records.size(), 7u);
    const auto& link = records[5];
    EXPECT_EQ(link.at("kind").as_string(), "rotation");
    EXPECT_EQ(link.at("reason").as_string(), "signal");
    EXPECT_EQ(link.at("previous_file").as_string(), "audit.jsonl.000000000005");
    EXPECT_EQ(link.at("previous_bytes").as_int64(), static_cast<std::int64_t>(sealed_size));
    EXPECT_EQ(link.at("torn_bytes").as_int64(), 0);
    EXPECT_EQ(records[6].at("n").as_int64(), 5);
}

TEST_F(AuditWriterIntegrity, SizeRotationKeepsOnlyTheNewestFiles) {
    auto o = options();
    o.rotate_bytes = 4096;
    o.keep = 2;
    {
        AuditWriter writer(o);
        auto& ring = writer.add_producer();
        writer.start();
        for (int i = 0; i < 400; ++i) {
            submit(writer, ring, i);
            if (i % 20 == 0) std::this_thread::sleep_for(6ms);  // let passes happen in between
        }
        writer.stop();
        EXPECT_GE(writer.rotations(), 3u);
    }
    const auto files = rotated();
    EXPECT_EQ(files.size(), 2u);
    // The kept files and the active one still form one chain, each later file linked to the one before.
    const auto records = chained_records(all_files());
    for (std::size_t i = 1; i < files.size() + 1; ++i) {
        const auto first = parse(split_lines(read_text(all_files()[i]))[0]);
        EXPECT_EQ(first.at("kind").as_string(), "rotation");
        EXPECT_EQ(first.at("previous_file").as_string(), all_files()[i - 1].filename().string());
    }
    EXPECT_EQ(records.back().at("n").as_int64(), 399);
}

TEST_F(AuditWriterIntegrity, RestartContinuesTheChainInTheSameFile) {
    for (int run = 0; run < 3; ++run) {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, run);
    }
    const auto records = chained_records({path_});
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[2].at("seq").as_int64(), 3);
}

TEST_F(AuditWriterIntegrity, TornLastLineIsSealedAndAccountedForOnRestart) {
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, 1);
        submit(writer, ring, 2);
    }
    const std::string torn = R"({"seq":3,"prev":"abc","ts":"2026-)";
    {
        std::ofstream out(path_, std::ios::binary | std::ios::app);
        out << torn;
    }
    const auto full_size = fs::file_size(path_);
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, 3);
    }
    const auto files = rotated();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].filename().string(), "audit.jsonl.000000000002");
    EXPECT_EQ(fs::file_size(files[0]), full_size);  // sealed as it was, torn bytes included
    const auto lines = split_lines(read_text(path_));
    ASSERT_EQ(lines.size(), 2u);
    const auto link = parse(lines[0]);
    EXPECT_EQ(link.at("kind").as_string(), "rotation");
    EXPECT_EQ(link.at("reason").as_string(), "recovered");
    EXPECT_EQ(link.at("previous_file").as_string(), "audit.jsonl.000000000002");
    EXPECT_EQ(link.at("previous_bytes").as_int64(), static_cast<std::int64_t>(full_size));
    EXPECT_EQ(link.at("torn_bytes").as_int64(), static_cast<std::int64_t>(torn.size()));
    EXPECT_EQ(link.at("seq").as_int64(), 3);
    // The link's prev is the last intact record's hash.
    const auto sealed_lines = split_lines(read_text(files[0]));
    EXPECT_EQ(link.at("prev").as_string(), parse(sealed_lines[1]).at("hash").as_string());
    (void)chained_records({path_});
}

TEST_F(AuditWriterIntegrity, AFileHoldingOnlyATornLineIsStartedOver) {
    {
        std::ofstream out(path_, std::ios::binary);
        out << R"({"seq":1,"prev":"00)";
    }
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, 1);
    }
    const auto records = chained_records({path_});
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("seq").as_int64(), 1);
}

TEST_F(AuditWriterIntegrity, AFileThatDoesNotEndWithAChainedRecordIsRefused) {
    {
        std::ofstream out(path_, std::ios::binary);
        out << "{\"legacy\":true}\n";
    }
    try {
        AuditWriter writer(options());
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path_.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("chained"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(path_), "{\"legacy\":true}\n");  // untouched
}

TEST_F(AuditWriterIntegrity, MissingActiveFileLinksToTheNewestRotatedOne) {
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        writer.start();
        submit(writer, ring, 1);
        writer.request_rotation();
        ASSERT_TRUE(eventually([&] { return writer.rotations() == 1; }));
    }
    fs::remove(path_);  // e.g. deleted by hand, or a crash between rename and create
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        submit(writer, ring, 2);
    }
    const auto lines = split_lines(read_text(path_));
    ASSERT_EQ(lines.size(), 2u);
    const auto link = parse(lines[0]);
    EXPECT_EQ(link.at("reason").as_string(), "restart");
    EXPECT_EQ(link.at("previous_file").as_string(), rotated().back().filename().string());
    const auto sealed = split_lines(read_text(rotated().back()));
    EXPECT_EQ(link.at("prev").as_string(), parse(sealed.back()).at("hash").as_string());
}

TEST_F(AuditWriterIntegrity, CheckpointsAreSignedAtIntervalsRotationAndShutdown) {
    const auto keys = audit::generate_key_pair();
    {
        std::ofstream(dir_ / "k.key") << keys.private_pem;
        std::ofstream(dir_ / "k.pub") << keys.public_pem;
    }
    auto o = options();
    o.signing_key_file = dir_ / "k.key";
    o.checkpoint_interval = 1s;
    {
        AuditWriter writer(o);
        auto& ring = writer.add_producer();
        writer.start();
        submit(writer, ring, 1);
        ASSERT_TRUE(eventually([&] { return writer.checkpoints() == 1; }, 3000ms));
        submit(writer, ring, 2);
        ASSERT_TRUE(eventually([&] { return writer.lines_written() == 3; }));  // 1, checkpoint, 2
        writer.request_rotation();
        ASSERT_TRUE(eventually([&] { return writer.rotations() == 1; }));
        submit(writer, ring, 3);
    }
    const auto verify_key = audit::VerifyKey::load(dir_ / "k.pub");
    std::vector<std::string> reasons;
    for (const auto& record : chained_records(all_files())) {
        if (!record.contains("kind") || record.at("kind").as_string() != "checkpoint") continue;
        reasons.emplace_back(record.at("reason").as_string());
        EXPECT_EQ(record.at("key_id").as_string(), verify_key.key_id());
        const auto message = audit::checkpoint_message(static_cast<std::uint64_t>(record.at("seq").as_int64()),
                                                       record.at("prev").as_string(), record.at("ts").as_string());
        EXPECT_TRUE(verify_key.verify_hex(message, record.at("sig").as_string())) << boost::json::serialize(record);
        // A different message must not verify with the same signature.
        EXPECT_FALSE(verify_key.verify_hex(message + "x", record.at("sig").as_string()));
    }
    EXPECT_EQ(reasons, (std::vector<std::string>{"interval", "rotation", "shutdown"}));
}

TEST_F(AuditWriterIntegrity, AnUnusableSigningKeyIsAnErrorNamingTheSetting) {
    std::ofstream(dir_ / "bad.key") << "not a key\n";
    auto o = options();
    o.signing_key_file = dir_ / "bad.key";
    try {
        AuditWriter writer(o);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("signing_key_file"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("not a key"), std::string::npos) << "key content echoed";
    }
}

TEST_F(AuditWriterIntegrity, ACharacterDeviceIsNeverRotatedOrFsynced) {
    auto o = options();
    o.path = "/dev/null";
    o.rotate_bytes = 4096;
    o.fsync = AuditWriter::Fsync::always;
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    for (int i = 0; i < 200; ++i) submit(writer, ring, i);
    writer.request_rotation();
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 200; }));
    // The request that cannot apply must not keep the writer awake (it once spun a core).
    timespec before{}, after{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    std::this_thread::sleep_for(200ms);
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
    const double cpu_ms = (after.tv_sec - before.tv_sec) * 1e3 + (after.tv_nsec - before.tv_nsec) / 1e6;
    EXPECT_LT(cpu_ms, 60.0) << "the writer thread is busy while nothing happens";
    writer.stop();
    EXPECT_TRUE(writer.healthy());
    EXPECT_EQ(writer.rotations(), 0u);
    EXPECT_TRUE(fs::is_character_file("/dev/null"));
    EXPECT_FALSE(fs::exists("/dev/null.000000000200"));
}

// ---- durability --------------------------------------------------------------------------------

TEST_F(AuditWriterIntegrity, AlwaysModeMakesEachTicketDurableAndSharesFsyncs) {
    auto o = options();
    o.fsync = AuditWriter::Fsync::always;
    o.flush_interval = 1000ms;  // only the producers' wake-ups drive the writer
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    std::atomic<int> progress{0};
    ring.set_progress_callback([&] { progress.fetch_add(1); });
    writer.start();
    std::string line = "{\"n\":0}\n";
    const auto ticket = writer.submit(ring, line);
    ASSERT_EQ(ticket, 1u);
    ASSERT_TRUE(eventually([&] { return ring.durable() >= ticket; }, 500ms)) << "not woken promptly";
    EXPECT_GE(progress.load(), 1);
    EXPECT_GE(writer.fsyncs(), 1u);
    std::uint64_t last = 0;
    for (int i = 1; i <= 2000; ++i) {
        line = "{\"n\":" + std::to_string(i) + "}\n";
        last = writer.submit(ring, line);
    }
    ASSERT_TRUE(eventually([&] { return ring.durable() >= last; }));
    EXPECT_LT(writer.fsyncs(), 1000u) << "group commit: one fsync covers every record pending";
    writer.stop();
    EXPECT_EQ(chained_records({path_}).size(), 2001u);
}

TEST_F(AuditWriterIntegrity, PassesComeQuicklyWhileRecordsFlowAndSlowlyWhenIdle) {
    auto o = options();
    o.fsync = AuditWriter::Fsync::never;  // nothing wakes the writer but its own interval
    // Wide apart, so that a test thread descheduled for a while cannot blur the two.
    o.flush_interval = 2000ms;
    o.busy_flush_interval = 50ms;
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    submit(writer, ring, 1);
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 1; }, 4000ms));
    // The pass that took record 1 found work: the next one is due after the busy interval.
    submit(writer, ring, 2);
    EXPECT_TRUE(eventually([&] { return writer.lines_written() == 2; }, 1000ms))
        << "while records flow the writer must not sleep the idle interval";
    // A pass that finds nothing sends the writer back to the idle interval.
    std::this_thread::sleep_for(200ms);
    submit(writer, ring, 3);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(writer.lines_written(), 2u) << "an idle writer must not wake every busy interval";
    EXPECT_TRUE(eventually([&] { return writer.lines_written() == 3; }, 4000ms));
    writer.stop();
}

TEST_F(AuditWriterIntegrity, NeverModeDoesNotFsyncWhileRunning) {
    auto o = options();
    o.fsync = AuditWriter::Fsync::never;
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    for (int i = 0; i < 50; ++i) submit(writer, ring, i);
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 50; }));
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(writer.fsyncs(), 0u);
    writer.stop();
    EXPECT_EQ(writer.fsyncs(), 1u);  // one at shutdown
}

TEST_F(AuditWriterIntegrity, BatchModeFsyncsWithinItsInterval) {
    auto o = options();
    o.fsync = AuditWriter::Fsync::batch;
    o.fsync_interval = 50ms;
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    for (int i = 0; i < 50; ++i) submit(writer, ring, i);
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 50; }));
    const auto written_at = std::chrono::steady_clock::now();
    EXPECT_TRUE(eventually([&] { return writer.fsyncs() >= 1; }, 500ms));
    EXPECT_LT(std::chrono::steady_clock::now() - written_at, 200ms);
    std::this_thread::sleep_for(60ms);  // a later pass may still sync the tail of the batch
    const auto after_first = writer.fsyncs();
    std::this_thread::sleep_for(150ms);  // nothing new written: no more fsyncs
    EXPECT_EQ(writer.fsyncs(), after_first);
}

// ---- failure -----------------------------------------------------------------------------------

TEST_F(AuditWriterIntegrity, FailingWritesAreHeldInOrderAndWrittenOnRecovery) {
    auto o = options();
    o.inject_write_errno = std::make_shared<std::atomic<int>>(0);
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    submit(writer, ring, 0);
    ASSERT_TRUE(eventually([&] { return writer.lines_written() == 1; }));
    const auto before = read_text(path_);
    o.inject_write_errno->store(ENOSPC);
    for (int i = 1; i <= 10; ++i) submit(writer, ring, i);
    ASSERT_TRUE(eventually([&] { return !writer.healthy(); }));
    std::this_thread::sleep_for(30ms);  // several retry passes
    EXPECT_EQ(read_text(path_), before);
    EXPECT_GT(writer.write_failures(), 1u);
    o.inject_write_errno->store(0);
    ASSERT_TRUE(eventually([&] { return writer.healthy(); }));
    writer.stop();
    const auto records = chained_records({path_});
    ASSERT_EQ(records.size(), 11u);
    for (int i = 0; i <= 10; ++i) EXPECT_EQ(records[static_cast<std::size_t>(i)].at("n").as_int64(), i);
    EXPECT_EQ(writer.dropped(), 0u);
}

TEST_F(AuditWriterIntegrity, ALongOutageKeepsRecordsInTheBoundedQueueAndDropsOnlyBeyondIt) {
    auto o = options();
    o.inject_write_errno = std::make_shared<std::atomic<int>>(EIO);
    o.queue_bytes = 16384;
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    // Records wait in the ring while writes fail; what finds no room is dropped (on_failure
    // "allow": the server reserves room first under "deny") and counted.
    submit(writer, ring, 0);
    ASSERT_TRUE(eventually([&] { return !writer.healthy(); }));
    // The writer takes nothing more while its write fails: 3 999 records of ~10 bytes overflow
    // the 16 KiB queue.
    for (int i = 1; i < 4000; ++i) submit(writer, ring, i);
    EXPECT_EQ(writer.lines_written(), 0u);
    const auto dropped = writer.dropped();
    EXPECT_GT(dropped, 0u);
    EXPECT_LE(ring.queued_bytes(), o.queue_bytes);
    o.inject_write_errno->store(0);
    ASSERT_TRUE(eventually([&] { return writer.healthy(); }));
    submit(writer, ring, 4000);
    writer.stop();
    const auto records = chained_records({path_});
    std::int64_t gap_total = 0;
    std::size_t requests = 0;
    for (const auto& r : records) {
        if (r.contains("kind") && r.at("kind").as_string() == "gap") gap_total += r.at("dropped").as_int64();
        else ++requests;
    }
    EXPECT_EQ(gap_total, static_cast<std::int64_t>(dropped));
    EXPECT_EQ(requests + dropped, 4001u);
}

TEST_F(AuditWriterIntegrity, AlwaysModeWaitersAreToldWhenWritesFail) {
    auto o = options();
    o.fsync = AuditWriter::Fsync::always;
    o.inject_write_errno = std::make_shared<std::atomic<int>>(ENOSPC);
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    std::atomic<int> progress{0};
    ring.set_progress_callback([&] { progress.fetch_add(1); });
    writer.start();
    std::string line = "{\"n\":1}\n";
    const auto ticket = writer.submit(ring, line);
    ASSERT_TRUE(eventually([&] { return progress.load() > 0 && !writer.healthy(); }));
    EXPECT_LT(ring.durable(), ticket);
    o.inject_write_errno->store(0);
    ASSERT_TRUE(eventually([&] { return ring.durable() >= ticket; }));
}

// A real full filesystem: a tiny tmpfs (needs CAP_SYS_ADMIN; skipped where mounting is refused).
TEST_F(AuditWriterIntegrity, AFullFilesystemLeavesNoHalfLineAndRecovers) {
    const fs::path mnt = dir_ / "mnt";
    fs::create_directory(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{mnt};
    auto o = options();
    o.path = mnt / "audit.jsonl";
    AuditWriter writer(o);
    auto& ring = writer.add_producer();
    writer.start();
    {
        // Fill all but a little of the filesystem.
        std::ofstream filler(mnt / "filler", std::ios::binary);
        const std::string block(1024, 'x');
        for (int i = 0; i < 60; ++i) filler << block;
    }
    int submitted = 0;
    for (; submitted < 400 && writer.healthy(); ++submitted) {
        submit(writer, ring, submitted);
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(eventually([&] { return !writer.healthy(); })) << "the filesystem never filled";
    const auto during = read_text(o.path);
    EXPECT_TRUE(during.empty() || during.back() == '\n') << "a half line was left behind";
    fs::remove(mnt / "filler");
    ASSERT_TRUE(eventually([&] { return writer.healthy(); }));
    writer.stop();
    const auto records = chained_records({o.path});
    EXPECT_EQ(records.size(), static_cast<std::size_t>(submitted));
    EXPECT_EQ(writer.dropped(), 0u);
    std::int64_t expected = 0;
    for (const auto& r : records) EXPECT_EQ(r.at("n").as_int64(), expected++);
}

}  // namespace
}  // namespace giosg
