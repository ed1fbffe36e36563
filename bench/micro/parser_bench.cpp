// The gateway's request-head parser (http::parse_request_head) against Beast's
// http::request_parser, which the design names, on the same bytes: a typical API GET, a POST head
// (the body is the body reader's business in both designs) and a request with 4 KiB of fields.
// Each side does what the proxy path would need per request: ours reuses the RequestHead's field
// vector (as the session does); a Beast parser is one-shot, so one is built per request.
// Results and the disagreement table: bench/README.md, "Request parser: the gateway's own vs Beast's".
#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <string>

#include "http/head.hpp"
#include "requests.hpp"

namespace {

namespace http = giosg::http;
namespace bhttp = boost::beast::http;

constexpr std::size_t kMaxHead = 16384;

std::string post_head() {
    return "POST /api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/chats HTTP/1.1\r\n"
           "Host: giosg-gateway.internal:8080\r\n"
           "User-Agent: node-fetch/3.3.2\r\n"
           "Accept: application/json\r\n"
           "Content-Type: application/json; charset=utf-8\r\n"
           "Content-Length: 512\r\n"
           "Authorization: Token 3q2+7wAAAAB0aGlzIGlzIGEgYmVuY2gga2V5IQ\r\n"
           "X-Request-Id: 0b8e2f6a1c9d4e7f8a3b5c2d1e0f9a8b\r\n"
           "\r\n";
}

/// About 4 KiB of head: the GET above plus a large cookie and a few more fields.
std::string large_head() {
    std::string raw = giosg::bench::typical_get_request();
    raw.resize(raw.size() - 2);  // reopen the field block
    raw += "Cookie: session=" + std::string(3400, 'c') + "\r\n";
    raw += "Accept-Language: fi-FI,fi;q=0.9,en-US;q=0.8,en;q=0.7\r\n";
    raw += "Referer: https://app.giosg.com/settings/integrations/rest-api?tab=keys\r\n";
    raw += "X-Forwarded-For: 10.12.4.17, 10.0.0.3\r\n";
    raw += "\r\n";
    return raw;
}

void own(benchmark::State& state, const std::string& raw) {
    http::RequestHead head;
    for (auto _ : state) {
        head.clear();
        const auto r = http::parse_request_head(raw, kMaxHead, head);
        if (r.status != http::ParseStatus::complete) state.SkipWithError("not complete");
        benchmark::DoNotOptimize(head.fields.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}

void beast(benchmark::State& state, const std::string& raw) {
    for (auto _ : state) {
        bhttp::request_parser<bhttp::empty_body> parser;
        parser.header_limit(kMaxHead);
        parser.eager(false);
        boost::system::error_code ec;
        parser.put(boost::asio::const_buffer(raw.data(), raw.size()), ec);
        if (ec || !parser.is_header_done()) state.SkipWithError("not complete");
        benchmark::DoNotOptimize(parser.get().target().data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}

void BM_Own_ApiGet(benchmark::State& state) { own(state, giosg::bench::typical_get_request()); }
void BM_Beast_ApiGet(benchmark::State& state) { beast(state, giosg::bench::typical_get_request()); }
void BM_Own_PostHead(benchmark::State& state) { own(state, post_head()); }
void BM_Beast_PostHead(benchmark::State& state) { beast(state, post_head()); }
void BM_Own_Head4KiB(benchmark::State& state) { own(state, large_head()); }
void BM_Beast_Head4KiB(benchmark::State& state) { beast(state, large_head()); }
BENCHMARK(BM_Own_ApiGet);
BENCHMARK(BM_Beast_ApiGet);
BENCHMARK(BM_Own_PostHead);
BENCHMARK(BM_Beast_PostHead);
BENCHMARK(BM_Own_Head4KiB);
BENCHMARK(BM_Beast_Head4KiB);

}  // namespace
