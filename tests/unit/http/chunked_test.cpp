#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "http/head.hpp"

namespace giosg::http {
namespace {

using namespace std::string_literals;

template <typename Case>
std::string param_name(const testing::TestParamInfo<Case>& info) {
    return info.param.name;
}
using Status = ChunkedDecoder::Status;

struct Decoded {
    Status status = Status::need_more;
    std::string body;
    std::size_t consumed = 0;  // bytes of the whole input used when decoding stopped
};

/// Feeds `input` in pieces whose sizes `next_piece` chooses, each piece copied into its own
/// buffer (so a data view that outlives its input would show), until done or error.
Decoded decode(std::string_view input, const std::function<std::size_t()>& next_piece,
               std::size_t max_trailer_bytes = 16384) {
    ChunkedDecoder decoder(max_trailer_bytes);
    Decoded out;
    while (out.consumed < input.size()) {
        const std::string buffer(input.substr(out.consumed, next_piece()));
        std::string_view piece = buffer;
        while (!piece.empty()) {
            const ChunkedDecoder::Step step = decoder.feed(piece);
            out.body.append(step.data);
            out.consumed += step.consumed;
            piece.remove_prefix(step.consumed);
            if (step.status != Status::need_more) {
                out.status = step.status;
                return out;
            }
            if (step.consumed == 0) {
                ADD_FAILURE() << "feed made no progress at byte " << out.consumed;
                return out;
            }
        }
    }
    return out;
}

Decoded decode_whole(std::string_view input, std::size_t max_trailer_bytes = 16384) {
    return decode(input, [&] { return input.size(); }, max_trailer_bytes);
}

Decoded decode_byte_by_byte(std::string_view input, std::size_t max_trailer_bytes = 16384) {
    return decode(input, [] { return std::size_t{1}; }, max_trailer_bytes);
}

struct ValidCase {
    const char* name;
    std::string encoded;
    std::string body;
};

class ValidChunkedBody : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidChunkedBody, DecodesWhole) {
    const Decoded decoded = decode_whole(GetParam().encoded);
    EXPECT_EQ(decoded.status, Status::done);
    EXPECT_EQ(decoded.body, GetParam().body);
    EXPECT_EQ(decoded.consumed, GetParam().encoded.size());
}

TEST_P(ValidChunkedBody, DecodesByteByByte) {
    const Decoded decoded = decode_byte_by_byte(GetParam().encoded);
    EXPECT_EQ(decoded.status, Status::done);
    EXPECT_EQ(decoded.body, GetParam().body);
    EXPECT_EQ(decoded.consumed, GetParam().encoded.size());
}

TEST_P(ValidChunkedBody, DecodesInRandomSplits) {
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<std::size_t> piece_size(1, 9);
    for (int round = 0; round < 100; ++round) {
        const Decoded decoded = decode(GetParam().encoded, [&] { return piece_size(rng); });
        ASSERT_EQ(decoded.status, Status::done) << "round " << round;
        ASSERT_EQ(decoded.body, GetParam().body) << "round " << round;
    }
}

TEST_P(ValidChunkedBody, StopsAtTheEndLeavingPipelinedBytes) {
    const std::string input = GetParam().encoded + "GET / HTTP/1.1\r\n";
    for (const Decoded& decoded : {decode_whole(input), decode_byte_by_byte(input)}) {
        EXPECT_EQ(decoded.status, Status::done);
        EXPECT_EQ(decoded.consumed, GetParam().encoded.size());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ValidChunkedBody,
    testing::Values(
        ValidCase{"EmptyBody", "0\r\n\r\n", ""},
        ValidCase{"OneChunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
        ValidCase{"SeveralChunks", "3\r\nabc\r\n1\r\nd\r\n6\r\nefghij\r\n0\r\n\r\n",
                  "abcdefghij"},
        ValidCase{"UppercaseHex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
        ValidCase{"LowercaseHex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
        ValidCase{"LeadingZeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
        ValidCase{"SixteenDigitSize", "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc"},
        ValidCase{"DataContainingCrlf", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
        ValidCase{"BinaryData", "3\r\n\0\xff\n\r\n0\r\n\r\n"s, "\0\xff\n"s},
        ValidCase{"Extensions", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"},
        ValidCase{"ExtensionAfterWhitespace", "5 \t;a=\"q d\"; b\r\nhello\r\n0\r\n\r\n",
                  "hello"},
        ValidCase{"ExtensionWithObsText", "2;x=\xe9\r\nhi\r\n0\r\n\r\n", "hi"},
        ValidCase{"Trailers", "2\r\nhi\r\n0\r\nX-Checksum: abc\r\nEmpty:\r\n\r\n", "hi"},
        ValidCase{"TrailerWithObsTextAndTab", "0\r\nX: \tcaf\xc3\xa9 \r\n\r\n", ""}),
    param_name<ValidCase>);

struct InvalidCase {
    const char* name;
    std::string encoded;
};

class InvalidChunkedBody : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidChunkedBody, IsRejectedWholeAndByteByByte) {
    EXPECT_EQ(decode_whole(GetParam().encoded).status, Status::error);
    EXPECT_EQ(decode_byte_by_byte(GetParam().encoded).status, Status::error);
}

INSTANTIATE_TEST_SUITE_P(
    Examples, InvalidChunkedBody,
    testing::Values(
        InvalidCase{"EmptySize", "\r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"NonHexSize", "g\r\n"},
        InvalidCase{"HexPrefix", "0x5\r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"NegativeSize", "-5\r\n"},
        InvalidCase{"SeventeenDigitSize", "00000000000000005\r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"OverflowingSize", "10000000000000000\r\n"},
        InvalidCase{"LeadingWhitespace", " 5\r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"WhitespaceWithoutExtension", "5 \r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"BareLfAfterSize", "5\nhello\r\n0\r\n\r\n"},
        InvalidCase{"BareCrAfterSize", "5\rhello\r\n0\r\n\r\n"},
        InvalidCase{"ControlCharInExtension", "5;a\x01\r\nhello\r\n0\r\n\r\n"},
        InvalidCase{"BareLfInExtension", "5;a\nhello\r\n0\r\n\r\n"},
        InvalidCase{"DataLongerThanSize", "5\r\nhelloX\r\n0\r\n\r\n"},
        InvalidCase{"BareLfAfterData", "5\r\nhello\n0\r\n\r\n"},
        InvalidCase{"BareCrAfterData", "5\r\nhello\rX"},
        InvalidCase{"BareLfAfterLastChunk", "0\n\r\n"},
        InvalidCase{"BareLfEndsBody", "0\r\n\n"},
        InvalidCase{"CrWithoutLfEndsBody", "0\r\n\rX"},
        InvalidCase{"TrailerObsFold", "0\r\nA: b\r\n c\r\n\r\n"},
        InvalidCase{"TrailerSpaceBeforeColon", "0\r\nA : b\r\n\r\n"},
        InvalidCase{"TrailerWithoutColon", "0\r\nAbc\r\n\r\n"},
        InvalidCase{"TrailerEmptyName", "0\r\n: v\r\n\r\n"},
        InvalidCase{"TrailerNul", "0\r\nA: b\0c\r\n\r\n"s},
        InvalidCase{"TrailerBareCr", "0\r\nA: b\rc\r\n\r\n"},
        InvalidCase{"TrailerBareLf", "0\r\nA: b\n\r\n"}),
    param_name<InvalidCase>);

TEST(ChunkedDecoder, ReturnsAfterOneDataRun) {
    const std::string input = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    ChunkedDecoder decoder;
    ChunkedDecoder::Step step = decoder.feed(input);
    EXPECT_EQ(step.status, Status::need_more);
    EXPECT_EQ(step.data, "abc");
    EXPECT_EQ(step.consumed, 6U);
    EXPECT_EQ(step.data.data(), input.data() + 3);  // a view into the input, not a copy

    step = decoder.feed(std::string_view(input).substr(6));
    EXPECT_EQ(step.status, Status::need_more);
    EXPECT_EQ(step.data, "de");

    step = decoder.feed(std::string_view(input).substr(6 + step.consumed));
    EXPECT_EQ(step.status, Status::done);
    EXPECT_TRUE(step.data.empty());
}

TEST(ChunkedDecoder, LargeChunkIsDeliveredAsItArrives) {
    ChunkedDecoder decoder;
    ChunkedDecoder::Step step = decoder.feed("FFFFFFFFFFFFFFFF\r\nabc");
    EXPECT_EQ(step.status, Status::need_more);
    EXPECT_EQ(step.data, "abc");
    EXPECT_EQ(step.consumed, 21U);
    step = decoder.feed("defg");
    EXPECT_EQ(step.data, "defg");
}

TEST(ChunkedDecoder, EmptyInputNeedsMore) {
    ChunkedDecoder decoder;
    const ChunkedDecoder::Step step = decoder.feed({});
    EXPECT_EQ(step.status, Status::need_more);
    EXPECT_EQ(step.consumed, 0U);
}

TEST(ChunkedDecoder, DoneStaysDoneAndConsumesNothingMore) {
    ChunkedDecoder decoder;
    ASSERT_EQ(decoder.feed("0\r\n\r\n").status, Status::done);
    const ChunkedDecoder::Step step = decoder.feed("5\r\nhello");
    EXPECT_EQ(step.status, Status::done);
    EXPECT_EQ(step.consumed, 0U);
}

TEST(ChunkedDecoder, ErrorIsFinalUntilReset) {
    ChunkedDecoder decoder;
    ASSERT_EQ(decoder.feed("x").status, Status::error);
    EXPECT_EQ(decoder.feed("0\r\n\r\n").status, Status::error);
    decoder.reset();
    EXPECT_EQ(decoder.feed("0\r\n\r\n").status, Status::done);
}

TEST(ChunkedDecoder, ResetStartsAFreshBody) {
    ChunkedDecoder decoder;
    ASSERT_EQ(decoder.feed("5\r\nhe").status, Status::need_more);
    decoder.reset();
    const ChunkedDecoder::Step step = decoder.feed("2\r\nok");
    EXPECT_EQ(step.data, "ok");
}

TEST(ChunkedDecoder, TrailerBytesUpToTheLimitAreAccepted) {
    // "A: 12345\r\n" is 10 bytes.
    EXPECT_EQ(decode_whole("0\r\nA: 12345\r\n\r\n", 10).status, Status::done);
    EXPECT_EQ(decode_byte_by_byte("0\r\nA: 12345\r\n\r\n", 10).status, Status::done);
}

TEST(ChunkedDecoder, TrailerBytesOverTheLimitAreRejected) {
    EXPECT_EQ(decode_whole("0\r\nA: 123456\r\n\r\n", 10).status, Status::error);
    EXPECT_EQ(decode_whole("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 10).status, Status::error);
}

TEST(ChunkedDecoder, ExtensionBytesShareTheTrailerBudget) {
    EXPECT_EQ(decode_whole("1;" + std::string(10, 'e') + "\r\nx\r\n0\r\n\r\n", 10).status,
              Status::done);
    EXPECT_EQ(decode_whole("1;" + std::string(11, 'e') + "\r\nx\r\n0\r\n\r\n", 10).status,
              Status::error);
    // Small extensions on many chunks add up.
    std::string many;
    for (int i = 0; i < 5; ++i) many += "1;abc\r\nx\r\n";
    EXPECT_EQ(decode_whole(many + "0\r\n\r\n", 10).status, Status::error);
}

}  // namespace
}  // namespace giosg::http
