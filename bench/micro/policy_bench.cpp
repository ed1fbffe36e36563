// Policy match (docs/reference.md §3 step 3) on the shipped catalogue and on a synthetic 10x one, and the
// whole decision (steps 2-6: key hash + constant-time compare, match, method, organisation, scope).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common.hpp"
#include "common/sha256.hpp"
#include "identity/client_table.hpp"
#include "policy/decision.hpp"

namespace {

using namespace giosg;

const PolicyTable& table_for(int which) {
    static const auto shipped = PolicyTable::compile(bench::shipped_catalogue());
    static const auto big = PolicyTable::compile(bench::synthetic_catalogue_10x());
    return which == 0 ? *shipped : *big;
}

// Every endpoint of the table, placeholders filled, matched in turn (one match per iteration).
void BM_PolicyMatch_AllEndpoints(benchmark::State& state) {
    const int which = static_cast<int>(state.range(0));
    const auto& table = table_for(which);
    const auto paths = bench::concrete_paths(which == 0 ? bench::shipped_catalogue() : bench::synthetic_catalogue_10x());
    std::size_t i = 0;
    std::size_t misses = 0;
    for (auto _ : state) {
        const auto r = table.match(paths[i]);
        misses += r.endpoint == nullptr;
        benchmark::DoNotOptimize(r);
        if (++i == paths.size()) i = 0;
    }
    if (misses != 0) state.SkipWithError("a concrete path did not match");
    state.SetLabel(std::to_string(table.size()) + " endpoints");
}
BENCHMARK(BM_PolicyMatch_AllEndpoints)->Arg(0)->Arg(1)->ArgName("x10");

// Single representative paths: the load harness's request, a literal-over-placeholder path,
// a deep path, and an unknown one (404).
void BM_PolicyMatch_Path(benchmark::State& state) {
    static const std::string org = bench::kOrg;
    static const std::vector<std::string> paths = {
        "/api/v5/orgs/" + org + "/users",
        "/api/v5/users/me",
        "/api/v5/orgs/" + org + "/users/" + org + "/chats/" + org + "/messages",
        "/api/v5/orgs/" + org + "/no_such_resource",
    };
    const auto& table = table_for(static_cast<int>(state.range(0)));
    const auto& path = paths[static_cast<std::size_t>(state.range(1))];
    for (auto _ : state) {
        auto r = table.match(path);
        benchmark::DoNotOptimize(r);
    }
    static const char* names[] = {"org_users", "users_me", "deep", "unknown"};
    state.SetLabel(names[state.range(1)]);
}
BENCHMARK(BM_PolicyMatch_Path)->ArgsProduct({{0, 1}, {0, 1, 2, 3}})->ArgNames({"x10", "path"});

// Steps 2-6 for the harness's allowed request: SHA-256 of the key, compare with every client's
// digest, match, method, organisation, scope.
void BM_Decide(benchmark::State& state) {
    const auto& table = table_for(0);
    std::vector<ClientConfig> clients;
    const int n_clients = static_cast<int>(state.range(0));
    for (int i = 0; i < n_clients; ++i) {
        ClientConfig c;
        c.name = "client" + std::to_string(i);
        c.key_sha256 = sha256("bench-key-" + std::to_string(i));
        c.credential = "bench";
        c.scopes = kScopeSettings | kScopeUsers | kScopeReports;
        c.scope_names = {"settings", "users", "reports"};
        c.all_organizations = true;
        clients.push_back(std::move(c));
    }
    const ClientTable table_clients(std::move(clients));
    const std::string auth = "Bearer bench-key-0";
    const std::string path = std::string("/api/v5/orgs/") + bench::kOrg + "/users";
    for (auto _ : state) {
        auto d = decide(table, table_clients, RequestFacts{"GET", path, auth, 1});
        if (!d.allowed()) state.SkipWithError("not allowed");
        benchmark::DoNotOptimize(d);
    }
    state.SetLabel(std::to_string(n_clients) + " clients");
}
BENCHMARK(BM_Decide)->Arg(1)->Arg(10)->ArgName("clients");

void BM_PolicyCompile(benchmark::State& state) {
    const auto& entries = state.range(0) == 0 ? bench::shipped_catalogue() : bench::synthetic_catalogue_10x();
    for (auto _ : state) {
        auto t = PolicyTable::compile(entries);
        benchmark::DoNotOptimize(t);
    }
    state.SetLabel(std::to_string(entries.size()) + " entries");
}
BENCHMARK(BM_PolicyCompile)->Arg(0)->Arg(1)->ArgName("x10")->Unit(benchmark::kMicrosecond);

}  // namespace
