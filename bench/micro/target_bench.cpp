// Target normalisation (docs/reference.md §3 step 1 and the query rewrite of step 7): parse_target
// validates, append_forward_target writes the target sent upstream (token parameters removed).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common.hpp"
#include "http/target.hpp"

namespace {

using namespace giosg;

const std::vector<std::string>& targets() {
    static const std::string org = bench::kOrg;
    static const std::vector<std::string> t = {
        "/api/v5/orgs/" + org + "/users",
        "/api/v5/orgs/" + org + "/users?page_size=50&ordering=-created_at",
        "/api/v5/orgs/" + org + "/users?token=secret-value&page_size=50&tok%65n=x",
        "/api/v5/orgs/" + org + "/users/" + org + "/chats/" + org + "/messages?since=2026-01-01T00%3A00%3A00Z",
    };
    return t;
}
const char* kNames[] = {"plain", "query", "token_query", "deep_escaped"};

void BM_ParseTarget(benchmark::State& state) {
    const auto& raw = targets()[static_cast<std::size_t>(state.range(0))];
    for (auto _ : state) {
        auto r = http::parse_target(raw);
        if (!r.ok) state.SkipWithError("rejected");
        benchmark::DoNotOptimize(r);
    }
    state.SetLabel(kNames[state.range(0)]);
}
BENCHMARK(BM_ParseTarget)->DenseRange(0, 3)->ArgName("target");

void BM_ParseAndForwardTarget(benchmark::State& state) {
    const auto& raw = targets()[static_cast<std::size_t>(state.range(0))];
    std::string out;
    out.reserve(512);
    for (auto _ : state) {
        out.clear();
        const auto r = http::parse_target(raw);
        http::append_forward_target(r.target, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetLabel(kNames[state.range(0)]);
}
BENCHMARK(BM_ParseAndForwardTarget)->DenseRange(0, 3)->ArgName("target");

}  // namespace
