// gzip for the body rewriter: pieces of any size, bounded output, corrupt input reported.
#include "relay/gzip.hpp"

#include <random>

#include <gtest/gtest.h>

namespace {

using giosg::relay::GzipDeflater;
using giosg::relay::GzipInflater;
using giosg::relay::InflateStatus;
using giosg::relay::gzip_compress;

std::string sample_text(std::size_t size) {
    std::string text;
    std::mt19937 rng(42);
    while (text.size() < size) text += "{\"id\":" + std::to_string(rng() % 100000) + ",\"name\":\"team\"},";
    text.resize(size);
    return text;
}

std::string random_bytes(std::size_t size) {
    std::string bytes(size, '\0');
    std::mt19937 rng(7);
    for (char& c : bytes) c = static_cast<char>(rng());
    return bytes;
}

std::string inflate_all(std::string_view gz, std::size_t piece, InflateStatus* status = nullptr,
                        std::size_t limit = 1 << 26) {
    GzipInflater inflater(limit);
    std::string out;
    InflateStatus st = InflateStatus::ok;
    for (std::size_t i = 0; i < gz.size() && st == InflateStatus::ok; i += piece) {
        st = inflater.feed(gz.substr(i, piece), out);
    }
    if (st == InflateStatus::ok) st = inflater.finish();
    if (status) *status = st;
    return out;
}

TEST(Gzip, RoundTrip) {
    for (std::size_t size : {0u, 1u, 100u, 70000u, 300000u}) {
        const std::string text = sample_text(size);
        const std::string gz = gzip_compress(text);
        ASSERT_GE(gz.size(), 18u);
        EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // a gzip member, not zlib
        EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
        InflateStatus status;
        EXPECT_EQ(inflate_all(gz, gz.size(), &status), text);
        EXPECT_EQ(status, InflateStatus::ok);
    }
}

TEST(Gzip, IncompressibleDataRoundTrips) {
    const std::string bytes = random_bytes(200000);
    InflateStatus status;
    EXPECT_EQ(inflate_all(gzip_compress(bytes, 9), 4096, &status), bytes);
    EXPECT_EQ(status, InflateStatus::ok);
}

TEST(Gzip, OneByteAtATime) {
    const std::string text = sample_text(50000);
    const std::string gz = gzip_compress(text);
    InflateStatus status;
    EXPECT_EQ(inflate_all(gz, 1, &status), text);
    EXPECT_EQ(status, InflateStatus::ok);
}

TEST(Gzip, StreamingDeflaterInPieces) {
    const std::string text = sample_text(100000);
    GzipDeflater deflater;
    std::string gz;
    for (std::size_t i = 0; i < text.size(); i += 777) deflater.feed(std::string_view(text).substr(i, 777), gz);
    deflater.feed("", gz);
    deflater.finish(gz);
    InflateStatus status;
    EXPECT_EQ(inflate_all(gz, 1000, &status), text);
    EXPECT_EQ(status, InflateStatus::ok);
}

TEST(Gzip, ConcatenatedMembersAreOneBody) {
    const std::string gz = gzip_compress("{\"a\":") + gzip_compress("1}");
    InflateStatus status;
    EXPECT_EQ(inflate_all(gz, 3, &status), "{\"a\":1}");
    EXPECT_EQ(status, InflateStatus::ok);
}

TEST(Gzip, OutputOverTheLimitIsTooLarge) {
    const std::string text(1 << 20, 'x');  // 1 MiB inflating from about 1 KiB
    const std::string gz = gzip_compress(text);
    InflateStatus status;
    std::string out = inflate_all(gz, 100, &status, 64 * 1024);
    EXPECT_EQ(status, InflateStatus::too_large);
    EXPECT_LE(out.size(), 64u * 1024);

    // Exactly at the limit is fine.
    EXPECT_EQ(inflate_all(gz, 100, &status, text.size()).size(), text.size());
    EXPECT_EQ(status, InflateStatus::ok);
}

TEST(Gzip, TooLargeIsFinal) {
    GzipInflater inflater(10);
    std::string out;
    EXPECT_EQ(inflater.feed(gzip_compress(std::string(100, 'a')), out), InflateStatus::too_large);
    EXPECT_EQ(inflater.feed(gzip_compress("b"), out), InflateStatus::too_large);
    EXPECT_EQ(inflater.finish(), InflateStatus::too_large);
}

TEST(Gzip, NotGzipIsCorrupt) {
    InflateStatus status;
    inflate_all("{\"next\":null}", 4, &status);
    EXPECT_EQ(status, InflateStatus::corrupt);
}

TEST(Gzip, BadChecksumIsCorrupt) {
    std::string gz = gzip_compress(sample_text(1000));
    gz[gz.size() - 6] ^= 0x55;  // inside the CRC32 trailer
    InflateStatus status;
    inflate_all(gz, 64, &status);
    EXPECT_EQ(status, InflateStatus::corrupt);
}

TEST(Gzip, DamagedDataIsCorrupt) {
    std::string gz = gzip_compress(random_bytes(5000));
    for (std::size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(~gz[i]);
    InflateStatus status;
    inflate_all(gz, 64, &status);
    EXPECT_EQ(status, InflateStatus::corrupt);
}

TEST(Gzip, TruncatedIsCorruptAtFinish) {
    const std::string gz = gzip_compress(sample_text(5000));
    GzipInflater inflater(1 << 20);
    std::string out;
    EXPECT_EQ(inflater.feed(std::string_view(gz).substr(0, gz.size() - 4), out), InflateStatus::ok);
    EXPECT_EQ(inflater.finish(), InflateStatus::corrupt);
}

TEST(Gzip, NothingFedIsCorrupt) {
    GzipInflater inflater(100);
    EXPECT_EQ(inflater.finish(), InflateStatus::corrupt);
}

TEST(Gzip, GarbageAfterTheMemberIsCorrupt) {
    const std::string gz = gzip_compress("{}") + "trailing";
    InflateStatus status;
    inflate_all(gz, gz.size(), &status);
    EXPECT_EQ(status, InflateStatus::corrupt);
}

}  // namespace
