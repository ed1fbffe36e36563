// cli::parse_args and check_shape: the one argv parser of the command line.
#include "cli/args.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace giosg::cli {
namespace {

std::string parse(std::vector<std::string> argv, Args& out) {
    return parse_args(argv, {"--config", "--out"}, out);
}

TEST(CliArgs, OptionsTakeTheNextArgumentOrTheTextAfterEquals) {
    Args a;
    EXPECT_EQ(parse({"--config", "gw.jsonc", "old.json", "--out=x.json", "new.json"}, a), "");
    EXPECT_EQ(a.at("--config"), "gw.jsonc");
    EXPECT_EQ(a.at("--out"), "x.json");
    EXPECT_EQ(a.positional, (std::vector<std::string>{"old.json", "new.json"}));
}

TEST(CliArgs, UsageErrorsNameTheOption) {
    Args a;
    EXPECT_EQ(parse({"--nope"}, a), "unknown option --nope");
    Args b;
    EXPECT_EQ(parse({"--nope=1"}, b), "unknown option --nope");
    Args c;
    EXPECT_EQ(parse({"--config"}, c), "option --config needs a value");
    Args d;
    EXPECT_EQ(parse({"--config", "a", "--config=b"}, d), "option --config given twice");
}

TEST(CliArgs, DoubleDashEndsTheOptions) {
    Args a;
    EXPECT_EQ(parse({"--", "--config", "-"}, a), "");
    EXPECT_FALSE(a.has("--config"));
    EXPECT_EQ(a.positional, (std::vector<std::string>{"--config", "-"}));
}

TEST(CliArgs, ShapeNamesAMisplacedOptionAndCountsPositionals) {
    Args a;
    ASSERT_EQ(parse({"--out", "x", "one"}, a), "");
    EXPECT_EQ(check_shape(a, {"--config"}, 1), "option --out is not valid for this command");
    EXPECT_EQ(check_shape(a, {"--out"}, 2), "expected 2 argument(s), got 1");
    EXPECT_EQ(check_shape(a, {"--out"}, 1), "");
}

}  // namespace
}  // namespace giosg::cli
