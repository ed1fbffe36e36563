// The audit writer's path, piece by piece and whole (docs/audit.md "Under load"): what one record
// costs the writer thread (chaining: the SHA-256 and the copy into the write buffer), and how many
// records per second the writer takes from the rings to the file end to end.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.hpp"
#include "audit/record.hpp"
#include "audit/writer.hpp"
#include "common.hpp"

namespace {

using namespace giosg;
namespace fs = std::filesystem;

/// CPU time of the process or of the calling thread, in ns.
double cpu_ns(int who) {
    rusage usage{};
    ::getrusage(who, &usage);
    return (static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3;
}

/// A typical allowed request's record, as a worker serialises it.
std::string typical_line() {
    AuditRecord rec;
    rec.ts = std::chrono::system_clock::now();
    rec.request_id = "0662c5653c9b4b1e9d6f2a7b8c9d0e1f";
    rec.remote = "127.0.0.1:57066";
    rec.method = "GET";
    const std::string path = std::string("/api/v5/orgs/") + bench::kOrg + "/users";
    rec.path = path;
    rec.client = "settings-bot";
    rec.pattern = "/api/v5/orgs/<organization_id>/users";
    rec.allowed = true;
    rec.code = Reason::ok;
    rec.status = 200;
    rec.upstream_status = 200;
    rec.bytes_out = 193;
    rec.duration_ms = 0.641;
    rec.upstream_ms = 0.434;
    std::string out;
    append_audit_json(rec, out);
    return out;
}

// Chaining one record: seq/prev prefix, SHA-256 over ~450 bytes, hash suffix, into a buffer
// that is emptied every 1 MiB as the writer's is after each write.
void BM_AuditChainRecord(benchmark::State& state) {
    const std::string line = typical_line();
    audit::ChainState chain;
    std::string pending;
    pending.reserve(2u << 20);
    for (auto _ : state) {
        audit::append_chained_object(chain, line, pending);
        if (pending.size() >= (1u << 20)) pending.clear();
        benchmark::DoNotOptimize(pending.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (line.size() + 150)));
}
BENCHMARK(BM_AuditChainRecord);

// End to end: one producer thread pushes 400 000 typical records through a ring (waiting for
// room, as a worker under "deny" would) while the writer thread chains and writes them to a file
// in $TMPDIR (or /tmp); timed until the last one is written. Arg: audit.fsync (0 never, 1 batch).
void BM_AuditWriterThroughput(benchmark::State& state) {
    constexpr int kRecords = 400000;
    const std::string line = typical_line();
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (fs::path(tmp != nullptr ? tmp : "/tmp") / "giosg-audit-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    const fs::path dir = pattern;
    std::uint64_t dropped = 0;
    double writer_cpu_ns = 0;
    double total_cpu_ns = 0;  // both threads: includes copying each record and pushing it
    for (auto _ : state) {
        state.PauseTiming();
        fs::remove(dir / "audit.jsonl");
        AuditWriter::Options options;
        options.path = dir / "audit.jsonl";
        options.fsync = state.range(0) == 0 ? AuditWriter::Fsync::never : AuditWriter::Fsync::batch;
        options.rotate_bytes = 0;
        AuditWriter writer(options);
        AuditRing& ring = writer.add_producer();
        state.ResumeTiming();
        const double process_before = cpu_ns(RUSAGE_SELF);
        const double producer_before = cpu_ns(RUSAGE_THREAD);
        writer.start();
        std::string record;
        for (int i = 0; i < kRecords; ++i) {
            while (!ring.try_reserve()) std::this_thread::yield();
            record.assign(line);
            writer.submit(ring, record, true);
        }
        // Dropped records (there should be none) end the wait too, and are reported.
        while (writer.lines_written() + writer.dropped() < static_cast<std::uint64_t>(kRecords))
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        // The writer thread's CPU: the process's less this (producer) thread's. Robust against
        // a busy machine, unlike the wall clock.
        const double process = cpu_ns(RUSAGE_SELF) - process_before;
        total_cpu_ns += process;
        writer_cpu_ns += process - (cpu_ns(RUSAGE_THREAD) - producer_before);
        state.PauseTiming();
        dropped += writer.dropped();
        writer.stop();
        state.ResumeTiming();
    }
    state.counters["dropped"] = static_cast<double>(dropped);
    const auto records = static_cast<double>(static_cast<std::int64_t>(state.iterations()) * kRecords);
    state.counters["writer_cpu_ns_per_record"] = writer_cpu_ns / records;
    state.counters["total_cpu_ns_per_record"] = total_cpu_ns / records;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRecords);
    state.SetLabel(state.range(0) == 0 ? "fsync_never" : "fsync_batch");
    std::error_code ec;
    fs::remove_all(dir, ec);
}
BENCHMARK(BM_AuditWriterThroughput)->Arg(0)->Arg(1)->ArgName("fsync")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
