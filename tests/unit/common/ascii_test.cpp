// ASCII case folding: letters A-Z only, whatever the locale, every other byte as it was.
#include "common/ascii.hpp"

#include <gtest/gtest.h>

#include <string>

namespace giosg {
namespace {

TEST(Ascii, LowerFoldsOnlyAsciiLetters) {
    EXPECT_EQ(ascii_lower('A'), 'a');
    EXPECT_EQ(ascii_lower('z'), 'z');
    EXPECT_EQ(ascii_lower('@'), '@');  // the byte before 'A'
    EXPECT_EQ(ascii_lower('['), '[');  // the byte after 'Z'
    EXPECT_EQ(ascii_lower(std::string_view("Service.GIOSG.com:443")), "service.giosg.com:443");
    EXPECT_EQ(ascii_lower(std::string_view("\xC3\x84" "B", 3)), std::string("\xC3\x84" "b", 3));
    EXPECT_EQ(ascii_lower(std::string_view()), "");
}

TEST(Ascii, IequalsIgnoresCaseButNotLength) {
    EXPECT_TRUE(ascii_iequals("Bearer", "bEARER"));
    EXPECT_FALSE(ascii_iequals("Bearer", "Bearer "));
    EXPECT_FALSE(ascii_iequals("[", "{"));  // not folded: only letters are
}

}  // namespace
}  // namespace giosg
