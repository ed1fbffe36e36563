// JWT identity (docs/reference.md §7): RS256, ES256 and EdDSA tokens signed at test time with keys made
// at test time, verified through identify() with a fixed clock; and every way to be refused.
#include "identity/jwt.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "common/base64url.hpp"
#include "common/sha256.hpp"
#include "identity/identify.hpp"
#include "identity/jwt_cache.hpp"
#include "jwt_test_keys.hpp"

namespace giosg {
namespace {

using testing::TestSigner;
using namespace std::chrono_literals;

constexpr std::int64_t kNowS = 1796400000;  // 2026-12-04T...Z
const std::chrono::system_clock::time_point kNow{std::chrono::seconds(kNowS)};
constexpr const char* kIssuer = "https://idp.corp.example";
constexpr const char* kAudience = "giosg-gateway";

struct Signers {
    TestSigner rsa{TestSigner::Kind::rsa, "rsa-1"};
    TestSigner ec{TestSigner::Kind::p256, "ec-1"};
    TestSigner ed{TestSigner::Kind::ed25519, "ed-1"};
};

const Signers& signers() {
    static const Signers s;  // RSA key generation is slow: once per test binary
    return s;
}

std::string claims(std::string sub = "svc-billing", std::int64_t exp = kNowS + 300, std::string extra = {},
                   std::string aud = "\"giosg-gateway\"", std::string iss = kIssuer) {
    return R"({"iss":")" + iss + R"(","aud":)" + aud + R"(,"sub":")" + sub + R"(","exp":)" + std::to_string(exp) +
           extra + "}";
}

ClientTable table() {
    std::string error;
    auto jwks = Jwks::parse(testing::jwks_of({&signers().rsa, &signers().ec, &signers().ed}), error);
    EXPECT_TRUE(jwks) << error;
    JwtConfig config{kIssuer, kAudience, "jwks.json", 60s};
    std::vector<ClientConfig> clients(2);
    clients[0].name = "billing";
    clients[0].jwt_subject = "svc-billing";
    clients[1].name = "support";
    clients[1].key_sha256 = sha256("support-key");
    clients[1].jwt_subject = "svc-support";
    return ClientTable(std::move(clients), std::make_shared<const JwtVerifier>(config, std::move(*jwks)));
}

Identity present(const ClientTable& t, const std::string& token, std::chrono::system_clock::time_point now = kNow,
                 JwtCache* cache = nullptr) {
    const std::string authorization = "Bearer " + token;
    return identify(t, {authorization, 1}, now, cache);
}

void expect_refused(const Identity& who, std::string_view why) {
    EXPECT_FALSE(who.known());
    EXPECT_EQ(who.client, nullptr);
    EXPECT_EQ(who.detail, "Invalid token.");  // the response never says why
    EXPECT_EQ(who.auth_error, why);
}

// ---- valid tokens ----------------------------------------------------------------------------

TEST(Jwt, Rs256TokenIdentifiesTheClientOfItsSubject) {
    const auto t = table();
    const Identity who = present(t, signers().rsa.token(claims()));
    ASSERT_TRUE(who.known()) << who.auth_error;
    EXPECT_EQ(who.client->name, "billing");
    EXPECT_EQ(who.kind, IdentityKind::jwt);
}

TEST(Jwt, Es256TokenVerifies) {
    const auto t = table();
    const Identity who = present(t, signers().ec.token(claims("svc-support")));
    ASSERT_TRUE(who.known()) << who.auth_error;
    EXPECT_EQ(who.client->name, "support");
}

TEST(Jwt, EdDsaTokenVerifies) {
    const auto t = table();
    const Identity who = present(t, signers().ed.token(claims()));
    ASSERT_TRUE(who.known()) << who.auth_error;
    EXPECT_EQ(who.client_index, 0u);
}

TEST(Jwt, AudienceMayBeAnArray) {
    const auto t = table();
    EXPECT_TRUE(present(t, signers().rsa.token(claims("svc-billing", kNowS + 60, "", R"(["other","giosg-gateway"])"))).known());
    expect_refused(present(t, signers().rsa.token(claims("svc-billing", kNowS + 60, "", R"(["other"])"))),
                   "jwt_wrong_audience");
}

TEST(Jwt, LeewayAppliesToExpAndNbf) {
    const auto t = table();
    // Expired 30 s ago, leeway 60 s: still valid; 61 s ago: not.
    EXPECT_TRUE(present(t, signers().ed.token(claims("svc-billing", kNowS - 30))).known());
    expect_refused(present(t, signers().ed.token(claims("svc-billing", kNowS - 61))), "jwt_expired");
    EXPECT_TRUE(present(t, signers().ed.token(claims("svc-billing", kNowS + 600, R"(,"nbf":)" + std::to_string(kNowS + 30)))).known());
}

TEST(Jwt, TokenSchemeIsAlwaysAKey) {
    const auto t = table();
    const std::string authorization = "Token " + signers().rsa.token(claims());
    const Identity who = identify(t, {authorization, 1}, kNow);
    expect_refused(who, "unknown_key");
}

TEST(Jwt, KeysStillWorkBesideJwt) {
    const auto t = table();
    const Identity who = identify(t, {"Bearer support-key", 1}, kNow);
    ASSERT_TRUE(who.known());
    EXPECT_EQ(who.kind, IdentityKind::key);
}

// ---- refused ---------------------------------------------------------------------------------

TEST(Jwt, WrongIssuerIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().rsa.token(claims("svc-billing", kNowS + 60, "", "\"giosg-gateway\"",
                                                         "https://evil.example"))),
                   "jwt_wrong_issuer");
}

TEST(Jwt, WrongAudienceIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().rsa.token(claims("svc-billing", kNowS + 60, "", "\"another-api\""))),
                   "jwt_wrong_audience");
    expect_refused(present(t, signers().rsa.token(R"({"iss":"https://idp.corp.example","sub":"svc-billing","exp":)" +
                                                  std::to_string(kNowS + 60) + "}")),
                   "jwt_wrong_audience");
}

TEST(Jwt, ExpiredIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().ec.token(claims("svc-billing", kNowS - 3600))), "jwt_expired");
}

TEST(Jwt, MissingExpIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().ec.token(R"({"iss":"https://idp.corp.example","aud":"giosg-gateway","sub":"svc-billing"})")),
                   "jwt_missing_exp");
}

TEST(Jwt, NotYetValidIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().rsa.token(claims("svc-billing", kNowS + 7200, R"(,"nbf":)" + std::to_string(kNowS + 3600)))),
                   "jwt_not_yet_valid");
}

TEST(Jwt, UnknownKidIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().rsa.token(claims(), R"({"alg":"RS256","kid":"rsa-2"})")), "jwt_unknown_kid");
    expect_refused(present(t, signers().rsa.token(claims(), R"({"alg":"RS256"})")), "jwt_unknown_kid");
}

TEST(Jwt, KidOfAnotherAlgorithmIsRefused) {
    const auto t = table();
    // The EC key's kid with an RS256 header: kid must name a key of the token's alg.
    expect_refused(present(t, signers().rsa.token(claims(), R"({"alg":"RS256","kid":"ec-1"})")), "jwt_unknown_kid");
}

TEST(Jwt, BadSignatureIsRefused) {
    const auto t = table();
    const TestSigner stranger(TestSigner::Kind::ed25519, "ed-1");  // same kid, another key
    expect_refused(present(t, stranger.token(claims())), "jwt_bad_signature");
    // A payload swapped under a valid signature.
    const std::string good = signers().ec.token(claims());
    const std::string other = signers().ec.token(claims("svc-support"));
    const auto cut = [](const std::string& s, int part) {
        const auto a = s.find('.'), b = s.find('.', a + 1);
        return part == 0 ? s.substr(0, a) : part == 1 ? s.substr(a + 1, b - a - 1) : s.substr(b + 1);
    };
    expect_refused(present(t, cut(good, 0) + "." + cut(other, 1) + "." + cut(good, 2)), "jwt_bad_signature");
}

TEST(Jwt, AlgNoneIsRefused) {
    const auto t = table();
    const std::string header = testing::b64url(R"({"alg":"none","kid":"rsa-1"})");
    const std::string payload = testing::b64url(claims());
    expect_refused(present(t, header + "." + payload + "."), "jwt_alg_not_allowed");
    expect_refused(present(t, header + "." + payload + "." + testing::b64url("x")), "jwt_alg_not_allowed");
}

TEST(Jwt, Hs256SignedWithTheRsaPublicKeyIsRefused) {
    const auto t = table();
    // Algorithm confusion: an HMAC keyed with the public key's bytes, which anyone knows.
    const std::string pem = signers().rsa.public_pem();
    expect_refused(present(t, testing::hs256_token(R"({"alg":"HS256","kid":"rsa-1"})", claims(), pem)),
                   "jwt_alg_not_allowed");
    expect_refused(present(t, testing::hs256_token(R"({"alg":"HS512","kid":"rsa-1"})", claims(), pem)),
                   "jwt_alg_not_allowed");
}

TEST(Jwt, UnknownSubjectIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().rsa.token(claims("svc-unknown"))), "jwt_unknown_subject");
}

TEST(Jwt, TruncatedAndGarbageTokensAreRefused) {
    const auto t = table();
    const std::string good = signers().rsa.token(claims());
    for (std::size_t cut : {good.size() - 1, good.size() - 5, good.rfind('.') + 1}) {
        const Identity who = present(t, good.substr(0, cut));
        EXPECT_FALSE(who.known()) << cut;
    }
    expect_refused(present(t, good.substr(0, good.rfind('.'))), "unknown_key");  // two parts: a key
    for (const std::string garbage : {"a.b.c", "...", "eyJ.eyJ.eyJ", "e30.e30.e30", "!!!.???.***"}) {
        const Identity who = present(t, garbage);
        EXPECT_FALSE(who.known()) << garbage;
    }
    // Padding and the standard alphabet are not base64url.
    std::string padded = good;
    padded.insert(padded.find('.'), "=");
    EXPECT_FALSE(present(t, padded).known());
    // Extra bits in the last character: a second encoding of the same signature.
    std::string noncanonical = good;
    char& last = noncanonical.back();
    last = last == 'A' ? 'B' : last == 'Q' ? 'R' : last == 'g' ? 'h' : last == 'w' ? 'x' : last;
    if (noncanonical != good) {
        EXPECT_FALSE(present(t, noncanonical).known());
    }
}

TEST(Jwt, CritHeaderIsRefused) {
    const auto t = table();
    expect_refused(present(t, signers().ed.token(claims(), R"({"alg":"EdDSA","kid":"ed-1","crit":["exp"]})")),
                   "jwt_unsupported_crit");
}

// ---- the cache -------------------------------------------------------------------------------

TEST(JwtCacheTest, VerifiedTokenIsFoundUntilExpPlusLeeway) {
    const auto t = table();
    JwtCache cache;
    const std::string token = signers().rsa.token(claims("svc-billing", kNowS + 100));
    ASSERT_TRUE(present(t, token, kNow, &cache).known());
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.find(t.generation(), sha256(token), kNow + 159s), 0);
    const Identity later = present(t, token, kNow + 159s, &cache);
    ASSERT_TRUE(later.known());
    EXPECT_EQ(later.kind, IdentityKind::jwt);
    expect_refused(present(t, token, kNow + 160s, &cache), "jwt_expired");
}

TEST(JwtCacheTest, RefusedTokensAreNotCached) {
    const auto t = table();
    JwtCache cache;
    (void)present(t, signers().rsa.token(claims("svc-unknown")), kNow, &cache);
    (void)present(t, signers().rsa.token(claims(), R"({"alg":"RS256","kid":"nope"})"), kNow, &cache);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(JwtCacheTest, AnotherTableEmptiesTheCache) {
    const auto first = table();
    JwtCache cache;
    const std::string token = signers().ed.token(claims());
    ASSERT_TRUE(present(first, token, kNow, &cache).known());
    const auto second = table();  // a reload
    EXPECT_EQ(cache.find(second.generation(), sha256(token), kNow), -1);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(JwtCacheTest, IsBounded) {
    JwtCache cache(4);
    for (int i = 0; i < 10; ++i) cache.insert(1, sha256(std::to_string(i)), 0, kNow + 1h, kNow);
    EXPECT_LE(cache.size(), 4u);
}

// ---- JWKS ------------------------------------------------------------------------------------

TEST(JwksTest, SkipsKeysItCannotUseAndRejectsBrokenOnes) {
    std::string error;
    EXPECT_FALSE(Jwks::parse("[]", error));
    EXPECT_FALSE(Jwks::parse(R"({"keys":[]})", error));
    EXPECT_FALSE(Jwks::parse(R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]})", error));  // HMAC: skipped, none left
    const auto some = Jwks::parse(
        "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}," + signers().ed.jwk() + "]}", error);
    ASSERT_TRUE(some) << error;
    EXPECT_EQ(some->keys.size(), 1u);
    EXPECT_FALSE(Jwks::parse(R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"x","x":"AAAA"}]})", error));
    EXPECT_FALSE(Jwks::parse(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"x","x":")" + testing::b64url(std::string(32, '\1')) +
                                 R"(","y":")" + testing::b64url(std::string(32, '\2')) + R"("}]})",
                             error));  // not on the curve
    EXPECT_FALSE(Jwks::parse(testing::jwks_of({&signers().ed, &signers().ed}), error));  // kid twice
}

TEST(JwksTest, RefusesShortRsaKeys) {
    std::string error;
    const TestSigner weak(TestSigner::Kind::rsa, "weak", 1024);
    EXPECT_FALSE(Jwks::parse(testing::jwks_of({&weak}), error));
    EXPECT_NE(error.find("2048"), std::string::npos) << error;
}

TEST(LooksLikeJwt, NeedsThreePartsAndAnAlgHeader) {
    EXPECT_TRUE(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    EXPECT_FALSE(looks_like_jwt("e30.e30.c2ln"));            // {} has no alg
    EXPECT_FALSE(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30"));
    EXPECT_FALSE(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.x"));
    EXPECT_FALSE(looks_like_jwt("plain-key"));
}

// ---- base64url -------------------------------------------------------------------------------

TEST(Base64Url, RoundTripsAndIsStrict) {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                          std::string("\xff\xfe\x00", 3)}) {
        std::string encoded;
        base64url_append({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}, encoded);
        EXPECT_EQ(encoded.find('='), std::string::npos);
        EXPECT_EQ(base64url_decode(encoded), s);
    }
    EXPECT_EQ(base64url_decode("Zm9v"), "foo");
    EXPECT_FALSE(base64url_decode("Zm9=")) << "padding";
    EXPECT_FALSE(base64url_decode("Zm+v")) << "standard alphabet";
    EXPECT_FALSE(base64url_decode("Zm9 v")) << "whitespace";
    EXPECT_FALSE(base64url_decode("Z")) << "impossible length";
    EXPECT_FALSE(base64url_decode("Zh")) << "leftover bits";
    EXPECT_EQ(base64url_decode("Zg"), "f");
}

// ---- beside a client certificate (docs/reference.md §7) -------------------------------------

TEST(Jwt, AJwtBesideACertificateMustNameTheSameClientVerifiedOrCached) {
    std::string error;
    auto jwks = Jwks::parse(testing::jwks_of({&signers().rsa}), error);
    ASSERT_TRUE(jwks) << error;
    std::vector<ClientConfig> clients(2);
    clients[0].name = "billing";
    clients[0].jwt_subject = "svc-billing";
    clients[0].mtls = MtlsMatch{MtlsMatch::Field::san_uri, "spiffe://corp.example/billing"};
    clients[1].name = "support";
    clients[1].jwt_subject = "svc-support";
    const ClientTable t(std::move(clients),
                        std::make_shared<const JwtVerifier>(JwtConfig{kIssuer, kAudience, "jwks.json", 60s}, std::move(*jwks)));
    Peer billing;
    billing.certificate = PeerCertificate{{"spiffe://corp.example/billing"}, {}, std::nullopt};
    JwtCache cache;
    for (int round = 0; round < 2; ++round) {  // verified, then from the cache: the same answers
        const std::string own = "Bearer " + signers().rsa.token(claims("svc-billing"));
        const Identity same = identify(t, {own, 1, &billing}, kNow, &cache);
        ASSERT_TRUE(same.known());
        EXPECT_EQ(identity_label(same), "mtls+jwt");
        const std::string other = "Bearer " + signers().rsa.token(claims("svc-support"));
        const Identity conflict = identify(t, {other, 1, &billing}, kNow, &cache);
        EXPECT_FALSE(conflict.known());
        EXPECT_EQ(conflict.auth_error, "conflicting_identities");
        EXPECT_EQ(identity_label(conflict), "mtls+jwt");
    }
}

}  // namespace
}  // namespace giosg
