// Header rewrite: parse a typical client request head with the strict parser, then build the
// head sent upstream with the server's own http::append_upstream_head (method, forwarded target,
// upstream Host, server token, X-Request-Id, the client's end-to-end fields). Also the upstream
// response head.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "common.hpp"
#include "requests.hpp"
#include "http/forward.hpp"
#include "http/head.hpp"
#include "http/target.hpp"

namespace {

using namespace giosg;

void BM_ParseRequestHead(benchmark::State& state) {
    const std::string raw = bench::typical_get_request();
    http::RequestHead head;
    for (auto _ : state) {
        head.clear();
        auto r = http::parse_request_head(raw, 16384, head);
        if (r.status != http::ParseStatus::complete) state.SkipWithError("not complete");
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_ParseRequestHead);

void BM_RewriteRequestHead(benchmark::State& state) {
    const std::string raw = bench::typical_get_request();
    const std::string upstream_authority = "service.giosg.com";
    const std::string server_authorization = "Authorization: Token 0123456789abcdef0123456789abcdef01234567\r\n";
    http::RequestHead head;
    std::string out;
    out.reserve(1024);
    for (auto _ : state) {
        head.clear();
        const auto r = http::parse_request_head(raw, 16384, head);
        const auto target = http::parse_target(head.target);
        if (r.status != http::ParseStatus::complete || !target.ok) state.SkipWithError("rejected");
        const auto id = head.find("X-Request-Id");
        benchmark::DoNotOptimize(head.count("Authorization"));
        benchmark::DoNotOptimize(head.find("Authorization"));
        out.clear();
        http::append_upstream_head(out, head, target.target, upstream_authority, server_authorization,
                                   id.value_or("0"));
        out.append("\r\n");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_RewriteRequestHead);

void BM_ParseResponseHead(benchmark::State& state) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Fri, 27 Nov 2026 23:52:33 GMT\r\n"
        "Content-Type: application/json\r\nContent-Length: 1234\r\nConnection: keep-alive\r\n"
        "Vary: Accept, Cookie\r\nAllow: GET, POST, HEAD, OPTIONS\r\nX-Frame-Options: DENY\r\n\r\n";
    http::ResponseHead head;
    for (auto _ : state) {
        head.clear();
        auto r = http::parse_response_head(raw, 32768, false, head);
        if (r.status != http::ParseStatus::complete) state.SkipWithError("not complete");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ParseResponseHead);

}  // namespace
