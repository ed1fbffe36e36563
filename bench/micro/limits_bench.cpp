// The local rate store's two designs (bench/README.md, "Rate limits"): one GCRA timestamp per key
// shared by all workers through a compare-and-swap, against per-worker buckets (plain int64, no
// atomics) each given a fair 1/N share of the rate. Threads stand in for workers; every thread
// decides for the same key, the worst case for the shared cell (one cache line bounces).
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "limits/limit.hpp"
#include "limits/local_limits.hpp"

namespace {

using namespace giosg;
using namespace giosg::limits;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A rate high enough that most decisions admit: the store path, not the refusal, is measured.
const RateConfig kRate{.per_s = 1e6, .burst = 1000000};

RateCell g_shared_cell;

void BM_SharedAtomicGcra(benchmark::State& state) {
    const auto params = GcraParams::from(kRate);
    for (auto _ : state) benchmark::DoNotOptimize(take(g_shared_cell, now_ns(), params).allowed);
}
BENCHMARK(BM_SharedAtomicGcra)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

struct alignas(kCacheLine) WorkerBucket {
    std::int64_t tat = 0;
};
std::vector<WorkerBucket> g_worker_buckets(64);

void BM_PerWorkerFairShareGcra(benchmark::State& state) {
    const auto threads = static_cast<std::uint32_t>(state.threads());
    const auto params = GcraParams::from(RateConfig{.per_s = kRate.per_s / threads, .burst = kRate.burst / threads});
    WorkerBucket& bucket = g_worker_buckets[static_cast<std::size_t>(state.thread_index())];
    for (auto _ : state) {
        const auto decision = gcra_decide(bucket.tat, now_ns(), params);
        if (decision.allowed) bucket.tat = decision.new_tat;
        benchmark::DoNotOptimize(decision.allowed);
    }
}
BENCHMARK(BM_PerWorkerFairShareGcra)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// The whole local limit stage for one admitted request: hold, in-flight slot, client and
// credential buckets.
void BM_LocalLimitStage(benchmark::State& state) {
    static LocalLimits* limits = [] {
        Config config;
        CredentialConfig credential;
        credential.rate = kRate;
        config.credentials.emplace("acme", credential);
        ClientConfig client;
        client.name = "billing";
        client.credential = "acme";
        client.rate = kRate;
        client.max_in_flight = 1000;
        config.clients.push_back(client);
        return new LocalLimits(config);
    }();
    for (auto _ : state) {
        InFlightSlot slot;
        const std::int64_t now = now_ns();
        auto verdict = check_replica_limits(*limits, 0, now, slot);
        if (verdict.admitted()) verdict = check_local_rates(*limits, 0, now);
        benchmark::DoNotOptimize(verdict.reason);
    }
}
BENCHMARK(BM_LocalLimitStage)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
