// The shared hex helpers: lower-case out, either case in, and nothing but exact-length digits.
#include "common/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace giosg {
namespace {

TEST(Hex, EncodesEveryByteAsTwoLowerCaseDigits) {
    const std::array<std::uint8_t, 5> bytes{0x00, 0x0a, 0x7f, 0xa5, 0xff};
    EXPECT_EQ(hex_encode(bytes), "000a7fa5ff");
    EXPECT_EQ(hex_encode({}), "");

    std::string out = "id=";
    hex_append(out, bytes);
    EXPECT_EQ(out, "id=000a7fa5ff");

    char fixed[10];
    hex_encode_to(bytes, fixed);
    EXPECT_EQ(std::string(fixed, sizeof fixed), "000a7fa5ff");
}

TEST(Hex, DigitsAndTheirValues) {
    for (unsigned v = 0; v < 16; ++v) EXPECT_EQ(hex_digit_value(hex_digit(v)), static_cast<int>(v));
    EXPECT_EQ(hex_digit(0x1f), 'f');  // only the low nibble counts
    EXPECT_EQ(hex_digit_value('A'), 10);
    EXPECT_EQ(hex_digit_value('F'), 15);
    for (const char c : std::string("gG/:@`\0 x", 9)) EXPECT_EQ(hex_digit_value(c), -1) << int(c);
}

TEST(Hex, DecodesEitherCaseBackToTheBytes) {
    std::array<std::uint8_t, 4> out{};
    ASSERT_TRUE(hex_decode("00aB7fFF", out));
    EXPECT_EQ(out, (std::array<std::uint8_t, 4>{0x00, 0xab, 0x7f, 0xff}));
    std::array<std::uint8_t, 0> none{};
    EXPECT_TRUE(hex_decode("", none));
}

TEST(Hex, DecodeRefusesWrongLengthAndNonDigits) {
    std::array<std::uint8_t, 2> out{};
    for (const std::string text : {"", "abc", "abcde", "abcdef", "abcg", " abc", "ab c", "+abc", "-abc", "0x12"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(hex_decode(text, out));
    }
}

TEST(Hex, IsLowerHexAcceptsOnlyLowerCaseDigits) {
    EXPECT_TRUE(is_lower_hex("0123456789abcdef"));
    EXPECT_TRUE(is_lower_hex(""));
    EXPECT_FALSE(is_lower_hex("ABCDEF"));
    EXPECT_FALSE(is_lower_hex("0g"));
}

}  // namespace
}  // namespace giosg
