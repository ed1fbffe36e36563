// Fuzzes the JWT identity (identity/jwt.hpp) with arbitrary bytes, in two modes chosen by the
// first byte:
//  * even: the rest is a whole token, verified as presented (and fed to the JWKS parser and the
//    base64url decoder): never a crash, never accepted (nobody but the harness holds the key);
//  * odd: the rest is "header.payload", signed by the harness's own Ed25519 key, so that the
//    fuzzer reaches the header and claim checks behind the signature. Whatever is accepted has a
//    subject and is valid at the fuzz clock.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/base64url.hpp"
#include "fuzz_check.hpp"
#include "identity/jwt.hpp"
#include "jwt_test_keys.hpp"

namespace {

using giosg::Jwks;
using giosg::JwtConfig;
using giosg::JwtVerifier;
using giosg::testing::TestSigner;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1796400000)};

struct Fixture {
    TestSigner signer{TestSigner::Kind::ed25519, "fuzz"};
    std::unique_ptr<JwtVerifier> verifier;
    Fixture() {
        std::string error;
        auto jwks = Jwks::parse(giosg::testing::jwks_of({&signer}), error);
        FUZZ_CHECK(jwks.has_value());
        verifier = std::make_unique<JwtVerifier>(
            JwtConfig{"https://idp.corp.example", "giosg-gateway", "jwks.json", std::chrono::seconds(60)},
            std::move(*jwks));
    }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest = giosg::fuzz::as_text(data + 1, size - 1);
    const Fixture& f = fixture();
    if ((data[0] & 1) == 0) {
        (void)giosg::looks_like_jwt(rest);
        FUZZ_CHECK(!f.verifier->verify(rest, kNow).ok);
        std::string error;
        (void)Jwks::parse(rest, error);
        if (const auto bytes = giosg::base64url_decode(rest)) {
            // Strict: a decoded text is the one canonical encoding of its bytes.
            std::string again;
            giosg::base64url_append({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()}, again);
            FUZZ_CHECK(again == rest);
        }
        return 0;
    }
    const std::string token = std::string(rest) + "." + giosg::testing::b64url(f.signer.sign(rest));
    const auto verdict = f.verifier->verify(token, kNow);
    if (verdict.ok) {
        FUZZ_CHECK(!verdict.subject.empty());
        FUZZ_CHECK(verdict.valid_until > kNow);
        FUZZ_CHECK(giosg::looks_like_jwt(token));
    } else {
        FUZZ_CHECK(!verdict.error.empty());
    }
    return 0;
}
