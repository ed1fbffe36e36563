// The relay stage's body rewriter (docs/reference.md §6): what a JSON list page costs when its
// `next`/`previous` links are rewritten onto the gateway, against merely copying the same bytes
// (what streaming it unchanged costs at the least). Pages of ~2 KB and ~200 KB, identity and gzip.
#include <benchmark/benchmark.h>

#include <string>

#include "relay/body_rewrite.hpp"
#include "relay/gzip.hpp"
#include "relay/origin.hpp"

namespace giosg {
namespace {

using relay::BodyRewriter;
using relay::ContentCoding;

/// A giosg-style paged list: `count` team objects of ~190 bytes each and absolute page links.
std::string list_page(int count) {
    std::string body = R"({"next":"https://service.giosg.com/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams?page=3",)"
                       R"("previous":"https://service.giosg.com/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams?page=1",)"
                       R"("results":[)";
    for (int i = 0; i < count; ++i) {
        if (i) body += ',';
        body += R"({"id":"2c7d9a1e-0b7e-4f7a-9d3c-)" + std::to_string(100000000000 + i) +
                R"(","name":"Team )" + std::to_string(i) +
                R"(","organization_id":"7f9e9580-095b-42c7-838c-c04e667b26f7","created_at":"2026-11-30T08:15:00.000Z","is_default":false})";
    }
    body += "]}";
    return body;
}

// Arg 0: teams per page (10 -> ~2 KB, 1000 -> ~200 KB); arg 1: 0 identity, 1 gzip.
const std::string& page(int count, bool gzip) {
    static const std::string small = list_page(10), large = list_page(1000);
    static const std::string small_gz = relay::gzip_compress(small), large_gz = relay::gzip_compress(large);
    const bool is_small = count <= 10;
    return gzip ? (is_small ? small_gz : large_gz) : (is_small ? small : large);
}

constexpr std::size_t kPiece = 16 * 1024;  // the relay reads the upstream body in pieces of about this

void BM_RewritePage(benchmark::State& state) {
    const bool gzip = state.range(1) != 0;
    const std::string& body = page(static_cast<int>(state.range(0)), gzip);
    const relay::Origin upstream = *relay::parse_origin("https://service.giosg.com");
    const std::optional<relay::PublicOrigin> gateway = relay::PublicOrigin::from_public_url("https://gw.corp.example");
    std::size_t out_bytes = 0;
    for (auto _ : state) {
        relay::LinkContext links(upstream, gateway, "https", std::nullopt);
        BodyRewriter rewriter(gzip ? ContentCoding::gzip : ContentCoding::identity, links);
        for (std::size_t at = 0; at < body.size(); at += kPiece) {
            rewriter.feed(std::string_view(body).substr(at, kPiece), at + kPiece >= body.size());
        }
        auto result = rewriter.finish();
        if (!result.changed) state.SkipWithError("page was not rewritten");
        out_bytes = result.body.size();
        benchmark::DoNotOptimize(result.body);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
    state.counters["page_bytes"] = static_cast<double>(body.size());
    state.counters["out_bytes"] = static_cast<double>(out_bytes);
}
BENCHMARK(BM_RewritePage)->Args({10, 0})->Args({10, 1})->Args({1000, 0})->Args({1000, 1});

// The floor: the same bytes copied piece by piece into one buffer, as a pass-through relays them.
void BM_PassThroughPage(benchmark::State& state) {
    const std::string& body = page(static_cast<int>(state.range(0)), state.range(1) != 0);
    std::string out;
    for (auto _ : state) {
        out.clear();
        for (std::size_t at = 0; at < body.size(); at += kPiece) out.append(std::string_view(body).substr(at, kPiece));
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
    state.counters["page_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_PassThroughPage)->Args({10, 0})->Args({10, 1})->Args({1000, 0})->Args({1000, 1});

}  // namespace
}  // namespace giosg
