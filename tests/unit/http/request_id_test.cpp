// X-Request-Id: which client ids are kept, and the generator of new ones.
#include "http/request_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace giosg::http {
namespace {

TEST(RequestId, ClientIdsOfSafeCharactersUpTo128AreKept) {
    EXPECT_TRUE(valid_request_id("abc-DEF_123.x"));
    EXPECT_TRUE(valid_request_id(std::string(128, 'a')));
    EXPECT_FALSE(valid_request_id(""));
    EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
    EXPECT_FALSE(valid_request_id("a b"));
    EXPECT_FALSE(valid_request_id("a\"b"));
    EXPECT_FALSE(valid_request_id("a/b"));
}

TEST(RequestId, EnsureKeepsAnIdAndFillsAnEmptyOneWith32HexDigits) {
    RequestIdGenerator generator;
    RequestId id;
    id.assign("client-id");
    generator.ensure(id);
    EXPECT_EQ(id.view(), "client-id");

    RequestId fresh;
    generator.ensure(fresh);
    ASSERT_EQ(fresh.view().size(), 32u);
    EXPECT_EQ(fresh.view().find_first_not_of("0123456789abcdef"), std::string_view::npos);
}

TEST(RequestId, GeneratedIdsDoNotRepeat) {
    RequestIdGenerator generator;
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        RequestId id;
        generator.ensure(id);
        seen.emplace(id.view());
    }
    EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace giosg::http
