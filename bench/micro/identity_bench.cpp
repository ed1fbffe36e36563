// The identify stage: a key, and a JWT verified from scratch (per algorithm) vs found in the
// per-worker cache of verified tokens (docs/reference.md §7: "a verified JWT costs one hash lookup").
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "common/sha256.hpp"
#include "identity/identify.hpp"
#include "jwt_test_keys.hpp"

namespace giosg {
namespace {

using testing::TestSigner;

struct Fixture {
    TestSigner rsa{TestSigner::Kind::rsa, "rsa"};
    TestSigner ec{TestSigner::Kind::p256, "ec"};
    TestSigner ed{TestSigner::Kind::ed25519, "ed"};
    std::unique_ptr<ClientTable> table;
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();

    Fixture() {
        std::string error;
        auto jwks = Jwks::parse(testing::jwks_of({&rsa, &ec, &ed}), error);
        std::vector<ClientConfig> clients(1);
        clients[0].name = "svc";
        clients[0].key_sha256 = sha256("bench-key-0123456789abcdef0123456789");
        clients[0].jwt_subject = "svc";
        table = std::make_unique<ClientTable>(
            std::move(clients),
            std::make_shared<const JwtVerifier>(JwtConfig{"https://idp", "gw", "jwks.json", std::chrono::seconds(60)},
                                                std::move(*jwks)));
    }
    [[nodiscard]] std::string token(const TestSigner& signer) const {
        const auto exp = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() + 3600;
        return "Bearer " + signer.token(R"({"iss":"https://idp","aud":"gw","sub":"svc","exp":)" + std::to_string(exp) + "}");
    }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

void BM_IdentifyKey(benchmark::State& state) {
    const auto& f = fixture();
    const std::string auth = "Bearer bench-key-0123456789abcdef0123456789";
    for (auto _ : state) {
        auto who = identify(*f.table, {auth, 1}, f.now);
        if (!who.known()) state.SkipWithError("refused");
        benchmark::DoNotOptimize(who);
    }
}
BENCHMARK(BM_IdentifyKey);

// Arg: 0 RS256, 1 ES256, 2 EdDSA; cached: 0 verify every time, 1 from the cache.
void BM_IdentifyJwt(benchmark::State& state) {
    const auto& f = fixture();
    const TestSigner& signer = state.range(0) == 0 ? f.rsa : state.range(0) == 1 ? f.ec : f.ed;
    const std::string auth = f.token(signer);
    const bool cached = state.range(1) == 1;
    JwtCache cache;
    for (auto _ : state) {
        auto who = identify(*f.table, {auth, 1}, f.now, cached ? &cache : nullptr);
        if (!who.known()) state.SkipWithError(std::string(who.auth_error).c_str());
        benchmark::DoNotOptimize(who);
    }
    state.SetLabel(signer.alg() + (cached ? " cached" : " verified"));
}
BENCHMARK(BM_IdentifyJwt)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"alg", "cached"});

}  // namespace
}  // namespace giosg
