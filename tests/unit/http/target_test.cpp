#include "http/target.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace giosg::http {
namespace {

using namespace std::string_literals;

template <typename Case>
std::string param_name(const testing::TestParamInfo<Case>& info) {
    return info.param.name;
}

struct ValidTarget {
    const char* name;
    std::string raw;
    std::string_view path;
    std::string_view query;
    bool has_query;
};

class AcceptedTarget : public testing::TestWithParam<ValidTarget> {};

TEST_P(AcceptedTarget, SplitsPathAndQueryWithoutRewriting) {
    const TargetResult result = parse_target(GetParam().raw);
    ASSERT_TRUE(result.ok) << result.detail;
    EXPECT_EQ(result.target.path, GetParam().path);
    EXPECT_EQ(result.target.query, GetParam().query);
    EXPECT_EQ(result.target.has_query, GetParam().has_query);
    EXPECT_TRUE(result.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Examples, AcceptedTarget,
    testing::Values(
        ValidTarget{"Root", "/", "/", "", false},
        ValidTarget{"PlainPath", "/api/v5/users", "/api/v5/users", "", false},
        ValidTarget{"TrailingSlash", "/api/v5/users/", "/api/v5/users/", "", false},
        ValidTarget{"Query", "/a?b=1&c=2", "/a", "b=1&c=2", true},
        ValidTarget{"EmptyQuery", "/a?", "/a", "", true},
        ValidTarget{"RootWithQuery", "/?x", "/", "x", true},
        ValidTarget{"SecondQuestionMarkBelongsToQuery", "/a?b?c=/d", "/a", "b?c=/d", true},
        ValidTarget{"PercentEscapesKeptAsSent", "/a%20b/%C3%A9", "/a%20b/%C3%A9", "", false},
        ValidTarget{"EncodedSlashAllowedInQuery", "/a?p=%2F%5c%00", "/a", "p=%2F%5c%00", true},
        ValidTarget{"DotsInsideASegment", "/a.b/.c/d./...", "/a.b/.c/d./...", "", false},
        ValidTarget{"EncodedDotInsideASegment", "/a%2eb/%2e%2e%2e", "/a%2eb/%2e%2e%2e", "", false},
        ValidTarget{"DotSegmentsInQueryAreData", "/a?x=/../..//", "/a", "x=/../..//", true},
        ValidTarget{"SubDelimsAndColon", "/a:b@c!$&'()*+,;=~-_", "/a:b@c!$&'()*+,;=~-_", "",
                    false}),
    param_name<ValidTarget>);

struct InvalidTarget {
    const char* name;
    std::string raw;
    std::string_view detail;  // the exact text of the 400 body
};

class RejectedTarget : public testing::TestWithParam<InvalidTarget> {};

TEST_P(RejectedTarget, IsRejectedWithItsReason) {
    const TargetResult result = parse_target(GetParam().raw);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, GetParam().detail);
}

constexpr std::string_view kNotOrigin = "request target must start with '/'";
constexpr std::string_view kBadByte = "control character, space or non-ASCII byte in target";
constexpr std::string_view kBackslash = "backslash in target";
constexpr std::string_view kFragment = "fragment in target";
constexpr std::string_view kPathEscape = "invalid percent-escape in path";
constexpr std::string_view kQueryEscape = "invalid percent-escape in query";
constexpr std::string_view kEncodedSlash = "encoded slash or backslash in path";
constexpr std::string_view kEncodedControl = "encoded control character in path";
constexpr std::string_view kDotSegment = "dot segment in path";
constexpr std::string_view kEmptySegment = "empty segment in path";

INSTANTIATE_TEST_SUITE_P(
    Form, RejectedTarget,
    testing::Values(InvalidTarget{"Empty", "", kNotOrigin},
                    InvalidTarget{"AbsoluteForm", "http://h/a", kNotOrigin},
                    InvalidTarget{"AsteriskForm", "*", kNotOrigin},
                    InvalidTarget{"QueryOnly", "?a=1", kNotOrigin},
                    InvalidTarget{"FragmentInPath", "/a#b", kFragment},
                    InvalidTarget{"FragmentInQuery", "/a?b#c", kFragment}),
    param_name<InvalidTarget>);

INSTANTIATE_TEST_SUITE_P(
    RawBytes, RejectedTarget,
    testing::Values(InvalidTarget{"SpaceInPath", "/a b", kBadByte},
                    InvalidTarget{"TabInPath", "/a\tb", kBadByte},
                    InvalidTarget{"NulInPath", "/a\0b"s, kBadByte},
                    InvalidTarget{"ControlInQuery", "/a?b=\x01", kBadByte},
                    InvalidTarget{"DelInPath", "/a\x7f", kBadByte},
                    InvalidTarget{"NonAsciiInPath", "/caf\xc3\xa9", kBadByte},
                    InvalidTarget{"NonAsciiInQuery", "/a?q=\xff", kBadByte},
                    InvalidTarget{"BackslashInPath", "/a\\..\\b", kBackslash},
                    InvalidTarget{"BackslashInQuery", "/a?b=\\", kBackslash}),
    param_name<InvalidTarget>);

INSTANTIATE_TEST_SUITE_P(
    PercentEscapes, RejectedTarget,
    testing::Values(InvalidTarget{"PercentAtEndOfPath", "/a%", kPathEscape},
                    InvalidTarget{"OneHexDigitInPath", "/a%2", kPathEscape},
                    InvalidTarget{"NonHexInPath", "/a%zz", kPathEscape},
                    InvalidTarget{"HalfEscapeBeforeQuery", "/a%2?x", kPathEscape},
                    InvalidTarget{"PercentAtEndOfQuery", "/a?b=%", kQueryEscape},
                    InvalidTarget{"NonHexInQuery", "/a?b=%g0", kQueryEscape},
                    InvalidTarget{"EncodedSlashUpper", "/a%2Fb", kEncodedSlash},
                    InvalidTarget{"EncodedSlashLower", "/a%2fb", kEncodedSlash},
                    InvalidTarget{"EncodedBackslashUpper", "/a%5Cb", kEncodedSlash},
                    InvalidTarget{"EncodedBackslashLower", "/a%5cb", kEncodedSlash},
                    InvalidTarget{"EncodedNul", "/a%00", kEncodedControl},
                    InvalidTarget{"EncodedCr", "/a%0d%0a", kEncodedControl},
                    InvalidTarget{"EncodedUnitSeparator", "/a%1F", kEncodedControl},
                    InvalidTarget{"EncodedDel", "/a%7f", kEncodedControl}),
    param_name<InvalidTarget>);

INSTANTIATE_TEST_SUITE_P(
    Segments, RejectedTarget,
    testing::Values(InvalidTarget{"DotSegment", "/a/./b", kDotSegment},
                    InvalidTarget{"DotDotSegment", "/a/../b", kDotSegment},
                    InvalidTarget{"TrailingDot", "/a/.", kDotSegment},
                    InvalidTarget{"TrailingDotDot", "/a/..", kDotSegment},
                    InvalidTarget{"OnlyDot", "/.", kDotSegment},
                    InvalidTarget{"DotDotBeforeQuery", "/a/..?x", kDotSegment},
                    InvalidTarget{"EncodedDotLower", "/a/%2e/b", kDotSegment},
                    InvalidTarget{"EncodedDotUpper", "/a/%2E", kDotSegment},
                    InvalidTarget{"MixedDotDot1", "/a/.%2e/b", kDotSegment},
                    InvalidTarget{"MixedDotDot2", "/a/%2e./b", kDotSegment},
                    InvalidTarget{"EncodedDotDot", "/%2e%2E/b", kDotSegment},
                    InvalidTarget{"DoubleSlashAtStart", "//a", kEmptySegment},
                    InvalidTarget{"DoubleSlashInside", "/a//b", kEmptySegment},
                    InvalidTarget{"DoubleTrailingSlash", "/a//", kEmptySegment},
                    InvalidTarget{"DoubleSlashOnly", "//", kEmptySegment},
                    InvalidTarget{"DoubleSlashBeforeQuery", "/a//?x", kEmptySegment}),
    param_name<InvalidTarget>);

struct ForwardCase {
    const char* name;
    std::string raw;
    std::string forwarded;
};

class ForwardTarget : public testing::TestWithParam<ForwardCase> {};

TEST_P(ForwardTarget, DropsOnlyTokenParameters) {
    const TargetResult result = parse_target(GetParam().raw);
    ASSERT_TRUE(result.ok) << result.detail;
    std::string out = "GET ";
    append_forward_target(result.target, out);
    EXPECT_EQ(out, "GET " + GetParam().forwarded);
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ForwardTarget,
    testing::Values(
        ForwardCase{"NoQuery", "/a/b/", "/a/b/"},
        ForwardCase{"QueryWithoutToken", "/a?b=1&c=%20", "/a?b=1&c=%20"},
        ForwardCase{"TokenFirst", "/a?token=x&b=1", "/a?b=1"},
        ForwardCase{"TokenLast", "/a?b=1&token=x", "/a?b=1"},
        ForwardCase{"TokenInTheMiddle", "/a?b=1&token=x&c=2", "/a?b=1&c=2"},
        ForwardCase{"OnlyToken", "/a?token=x", "/a"},
        ForwardCase{"SeveralTokens", "/a?token=1&token=2&b&token", "/a?b"},
        ForwardCase{"TokenWithoutValue", "/a?token&b=1", "/a?b=1"},
        ForwardCase{"TokenWithEmptyValue", "/a?token=&b=1", "/a?b=1"},
        ForwardCase{"EmptyQuery", "/a?", "/a"},
        ForwardCase{"PercentEncodedName", "/a?tok%65n=x&c", "/a?c"},
        ForwardCase{"FullyEncodedName", "/a?%74%6F%6B%65%6E=x", "/a"},
        ForwardCase{"LongerName", "/a?tokens=1", "/a?tokens=1"},
        ForwardCase{"ShorterName", "/a?toke=1", "/a?toke=1"},
        ForwardCase{"NameIsCaseSensitive", "/a?Token=1&TOKEN=2", "/a?Token=1&TOKEN=2"},
        ForwardCase{"TokenAsValueIsKept", "/a?b=token", "/a?b=token"},
        ForwardCase{"PlusIsSpaceInName", "/a?token+=1&+token=2", "/a?token+=1&+token=2"},
        ForwardCase{"EncodedEqualsIsPartOfName", "/a?token%3D=1", "/a?token%3D=1"},
        ForwardCase{"EmptyParametersKeptAsSent", "/a?b=1&&c=2", "/a?b=1&&c=2"},
        ForwardCase{"EmptyParameterNextToRemovedToken", "/a?token=x&&b", "/a?&b"},
        ForwardCase{"TokenAndTrailingAmpersandLeavesNothing", "/a?token=x&", "/a"},
        ForwardCase{"OtherParameterOrderIsKept", "/a?z=1&a=2&token=t&m=3", "/a?z=1&a=2&m=3"}),
    param_name<ForwardCase>);

// What the audit record keeps of a refused target: never a query, fragment or password.
TEST(AuditTarget, DropsQueryFragmentAndUserinfo) {
    const auto audit_target = [](std::string_view raw) {
        std::string out = "x";
        append_audit_target(raw, out);
        return out.substr(1);
    };
    EXPECT_EQ(audit_target("/api/v5/users?token=secret"), "/api/v5/users");
    EXPECT_EQ(audit_target("/api/v5/users#frag?x"), "/api/v5/users");
    EXPECT_EQ(audit_target("http://u:SECRETPW@host/api?x=1"), "http://host/api");
    EXPECT_EQ(audit_target("https://u:p@ss@host:8443/a"), "https://host:8443/a");
    EXPECT_EQ(audit_target("//u:pw@host/a"), "//host/a");
    EXPECT_EQ(audit_target("http://u:pw@host"), "http://host");
    EXPECT_EQ(audit_target("http://host/a@b"), "http://host/a@b");     // '@' in the path is not userinfo
    EXPECT_EQ(audit_target("/api/v5//users/a@b.c"), "/api/v5//users/a@b.c");
    EXPECT_EQ(audit_target("/x://u:p@h/"), "/x://u:p@h/");             // origin-form: kept as sent
    EXPECT_EQ(audit_target("host:443"), "host:443");
    EXPECT_EQ(audit_target("u:pw@host:443"), "host:443");               // authority-form (CONNECT)
    EXPECT_EQ(audit_target("ht!tp://u:pw@h/a"), "ht!tp://h/a");         // no valid scheme, still an authority
    EXPECT_EQ(audit_target("*"), "*");
    EXPECT_EQ(audit_target(""), "");
}

TEST(ForwardTarget, AppendsToWhatIsAlreadyThere) {
    std::string out = "prefix:";
    append_forward_target(TargetView{"/p", "token=1&x=2", true}, out);
    EXPECT_EQ(out, "prefix:/p?x=2");
}

}  // namespace
}  // namespace giosg::http
