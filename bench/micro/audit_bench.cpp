// Audit record serialisation (docs/reference.md §4): one JSON line into a reused buffer.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "audit/record.hpp"
#include "common.hpp"

namespace {

using namespace giosg;

void BM_AuditRecordJson(benchmark::State& state) {
    const std::string path = std::string("/api/v5/orgs/") + bench::kOrg + "/users";
    const bool denied = state.range(0) != 0;
    AuditRecord rec;
    rec.ts = std::chrono::system_clock::now();
    rec.request_id = "0662c5653c9b4b1e9d6f2a7b8c9d0e1f";
    rec.remote = "127.0.0.1:57066";
    rec.method = "GET";
    rec.path = path;
    if (denied) {
        rec.allowed = false;
        rec.code = Reason::not_authenticated;
        rec.status = 401;
        rec.duration_ms = 0.012;
    } else {
        rec.client = "settings-bot";
        rec.pattern = "/api/v5/orgs/<organization_id>/users";
        rec.allowed = true;
        rec.code = Reason::ok;
        rec.status = 200;
        rec.upstream_status = 200;
        rec.bytes_out = 193;
        rec.duration_ms = 0.641;
        rec.upstream_ms = 0.434;
    }
    std::string out;
    out.reserve(1024);
    for (auto _ : state) {
        out.clear();
        append_audit_json(rec, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetLabel(denied ? "deny_401" : "allow_200");
}
BENCHMARK(BM_AuditRecordJson)->Arg(0)->Arg(1)->ArgName("denied");

void BM_AuditTimestamp(benchmark::State& state) {
    std::string out;
    out.reserve(64);
    const auto tp = std::chrono::system_clock::now();
    for (auto _ : state) {
        out.clear();
        append_rfc3339_ms(tp, out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_AuditTimestamp);

}  // namespace
