// SHA-256 as hash-key, the client table and the audit chain use it.
#include "common/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

namespace giosg {
namespace {

// FIPS 180-2 / NIST example vectors.
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kTwoBlockSha256 =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

TEST(Sha256, Sha256MatchesKnownVectors) {
    EXPECT_EQ(format_key_digest(sha256("")), "sha256:" + std::string(kEmptySha256));
    EXPECT_EQ(format_key_digest(sha256("abc")), "sha256:" + std::string(kAbcSha256));
    EXPECT_EQ(format_key_digest(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "sha256:" + std::string(kTwoBlockSha256));
}

TEST(Sha256, Sha256HashesEmbeddedNulBytes) {
    using namespace std::string_view_literals;
    EXPECT_NE(sha256("a\0b"sv), sha256("a"sv));
    EXPECT_NE(sha256("a\0b"sv), sha256("ab"sv));
}

TEST(Sha256, Sha256OfPartsHashesTheirConcatenation) {
    // The two-block vector (56 bytes: padding needs a second block) in uneven and empty pieces.
    const std::string_view whole = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(format_key_digest(sha256_of({whole.substr(0, 3), "", whole.substr(3, 47), whole.substr(50)})),
              "sha256:" + std::string(kTwoBlockSha256));
    EXPECT_EQ(format_key_digest(sha256_of({"a", "b", "c"})), "sha256:" + std::string(kAbcSha256));
    EXPECT_EQ(format_key_digest(sha256_of({})), "sha256:" + std::string(kEmptySha256));
    EXPECT_NE(sha256_of({"ab", "c"}), sha256_of({"ab", "d"}));
}

TEST(Sha256, FormatIsPrefixedLowerCaseHex) {
    KeyDigest digest{};
    for (std::size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<std::uint8_t>(i * 8 + 0x0A);
    const std::string text = format_key_digest(digest);
    EXPECT_EQ(text, "sha256:0a121a222a323a424a525a626a727a828a929aa2aab2bac2cad2dae2eaf2fa02");
    EXPECT_EQ(text.size(), 7u + 64u);
}

TEST(Sha256, DigestEqualComparesEveryByte) {
    const KeyDigest a = sha256("abc");
    KeyDigest first_differs = a;
    first_differs[0] ^= 0x01;
    KeyDigest last_differs = a;
    last_differs[31] ^= 0x80;
    EXPECT_TRUE(digest_equal(a, sha256("abc")));
    EXPECT_FALSE(digest_equal(a, first_differs));
    EXPECT_FALSE(digest_equal(a, last_differs));
    EXPECT_FALSE(digest_equal(a, sha256("abd")));
}

}  // namespace
}  // namespace giosg
