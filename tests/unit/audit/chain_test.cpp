// The chain primitives (audit/chain.hpp) that the writer and the verifier share. The expected
// hashes were computed independently with Python's hashlib:
//   prev = "0" * 64
//   head = '{"seq":1,"prev":"' + prev + '","ts":"2026-11-28T03:12:09.412Z","note":"caf\\u00e9"'
//   hashlib.sha256((prev + head + "}").encode()).hexdigest()
#include "audit/chain.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace giosg::audit {
namespace {

const std::string kZeros(64, '0');
constexpr std::string_view kFirstHash = "beab6abcd4540ab63b3ba7e814ba907a6d7dac3170477345a3c1a8b9a3fdc16b";
constexpr std::string_view kSecondHash = "71ca5a5c76cad4d9feb6435c845e06121e05afa145029f3b8c792642f6c57187";

std::string_view view(const HashHex& hash) { return {hash.data(), hash.size()}; }

std::string chained_line(ChainState& state, std::string_view fields) {
    std::string out;
    append_chained(state, fields, out);
    return out;
}

TEST(HashHex, MatchesTheFipsTestVector) {
    EXPECT_EQ(view(hash_hex({"abc"})), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(view(hash_hex({"a", "", "bc"})), view(hash_hex({"abc"}))) << "parts are concatenated";
}

TEST(AppendChained, WritesTheDocumentedLineWithAnIndependentlyComputedHash) {
    ChainState state;
    const auto first = chained_line(state, R"("ts":"2026-11-28T03:12:09.412Z","note":"caf\u00e9")");
    EXPECT_EQ(first, R"({"seq":1,"prev":")" + kZeros + R"(","ts":"2026-11-28T03:12:09.412Z","note":"caf\u00e9","hash":")" +
                         std::string(kFirstHash) + "\"}\n");
    EXPECT_EQ(state.seq, 1u);
    EXPECT_EQ(state.last_hash_view(), kFirstHash);

    const auto second = chained_line(state, R"("n":2)");
    EXPECT_EQ(second, R"({"seq":2,"prev":")" + std::string(kFirstHash) + R"(","n":2,"hash":")" +
                          std::string(kSecondHash) + "\"}\n");
    EXPECT_EQ(state.seq, 2u);
    EXPECT_EQ(state.last_hash_view(), kSecondHash);
}

TEST(AppendChained, AppendsToWhatTheBufferHolds) {
    ChainState state;
    std::string out = "earlier\n";
    append_chained(state, R"("ts":"2026-11-28T03:12:09.412Z","note":"caf\u00e9")", out);
    EXPECT_TRUE(out.starts_with("earlier\n{\"seq\":1,"));
    EXPECT_EQ(state.last_hash_view(), kFirstHash) << "the hash covers only the new line";
}

TEST(AppendChainedObject, ChainsAWholeObjectLineLikeItsMembers) {
    ChainState by_object;
    ChainState by_fields;
    std::string from_object;
    append_chained_object(by_object, "{\"n\":2,\"s\":\"x\"}\n", from_object);
    EXPECT_EQ(from_object, chained_line(by_fields, R"("n":2,"s":"x")"));
    EXPECT_EQ(by_object.last_hash, by_fields.last_hash);
}

TEST(AppendChained, EmptyFieldsGiveAValidChainedLine) {
    ChainState state;
    const auto line = chained_line(state, "");
    EXPECT_TRUE(line.starts_with(R"({"seq":1,"prev":")" + kZeros + R"(","hash":")")) << line;
    const auto split = split_chained_line(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(split);
    EXPECT_EQ(view(compute_hash(*split)), split->hash);
}

TEST(SplitChainedLine, ReturnsWhatTheHashCovers) {
    ChainState state;
    chained_line(state, R"("n":1)");
    const std::string first_hash(state.last_hash_view());
    const auto line = chained_line(state, R"("n":2)");
    const auto split = split_chained_line(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(split);
    EXPECT_EQ(split->seq, 2u);
    EXPECT_EQ(split->prev, first_hash);
    EXPECT_EQ(split->hash, state.last_hash_view());
    EXPECT_EQ(split->canonical_head, line.substr(0, line.size() - 1 - kHashSuffixSize));
    EXPECT_TRUE(split->canonical_head.ends_with(R"("n":2)"));
    EXPECT_EQ(view(compute_hash(*split)), state.last_hash_view());
}

TEST(SplitChainedLine, RejectsLinesOfAnotherShape) {
    const std::string hash(64, 'a');
    const auto line = [&](std::string_view seq, std::string_view prev, std::string_view middle, std::string_view h) {
        return R"({"seq":)" + std::string(seq) + R"(,"prev":")" + std::string(prev) + "\"" + std::string(middle) +
               R"(,"hash":")" + std::string(h) + "\"}";
    };
    ASSERT_TRUE(split_chained_line(line("7", kZeros, ",\"n\":1", hash))) << "the reference shape";
    ASSERT_TRUE(split_chained_line(line("7", kZeros, "", hash))) << "no members besides seq, prev and hash";
    for (const auto& bad : {
             std::string(),
             std::string("{}"),
             line("07", kZeros, "", hash),                              // leading zero
             line("0", kZeros, "", hash),                               // seq 0
             line("-1", kZeros, "", hash),
             line("99999999999999999999", kZeros, "", hash),            // beyond 64 bits
             line("7", std::string(63, '0'), "", hash),                 // short prev
             line("7", std::string(64, 'A'), "", hash),                 // upper-case hex
             line("7", kZeros, "", std::string(63, 'a')),               // short hash
             line("7", kZeros, "", std::string(64, 'g')),               // not hex
             line("7", kZeros, ",\"n\":1", hash) + "\n",                // the '\n' is not part of the line
             line("7", kZeros, ",\"n\":1", hash) + " ",
             " " + line("7", kZeros, ",\"n\":1", hash),
             R"({"prev":")" + kZeros + R"(","seq":7,"hash":")" + hash + "\"}",  // members in another order
             R"({"seq":7,"prev":")" + kZeros + R"(","n":1})",          // no hash
         })
        EXPECT_FALSE(split_chained_line(bad)) << bad;
}

TEST(ComputeHash, ChangesWithAnyByteOfTheCanonicalHead) {
    ChainState state;
    const auto line = chained_line(state, R"("method":"GET")");
    auto edited = line.substr(0, line.size() - 1);
    edited.replace(edited.find("GET"), 3, "PUT");
    const auto split = split_chained_line(edited);
    ASSERT_TRUE(split);
    EXPECT_NE(view(compute_hash(*split)), split->hash);
}

}  // namespace
}  // namespace giosg::audit
