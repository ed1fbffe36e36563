// The audit record of docs/reference.md §4 (serialisation and escaping) and the writer that puts the lines
// into the file (AuditRing, AuditWriter).
#include "audit/chain.hpp"
#include "audit/record.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "audit/writer.hpp"

namespace giosg {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2023-11-14T22:13:20.123Z
constexpr milliseconds kFixedTime{1700000000123};

AuditRecord allowed_record() {
    AuditRecord r;
    r.ts = system_clock::time_point(kFixedTime);
    r.request_id = "req-1";
    r.client = "billing";
    r.remote = "10.0.0.7:51234";
    r.method = "GET";
    r.path = "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/rooms";
    r.pattern = "/api/v5/orgs/<organization_id>/rooms";
    r.allowed = true;
    r.code = Reason::ok;
    r.status = 200;
    r.upstream_status = 200;
    r.bytes_in = 12;
    r.bytes_out = 3456;
    r.duration_ms = 12.5;
    r.upstream_ms = 10.25;
    return r;
}

AuditRecord denied_record() {
    AuditRecord r;
    r.ts = system_clock::time_point(kFixedTime);
    r.request_id = "req-2";
    r.remote = "[::1]:40000";
    r.method = "DELETE";
    r.path = "/api/v5/nothing";
    r.allowed = false;
    r.code = Reason::not_authenticated;
    r.status = 401;
    return r;
}

std::string serialise(const AuditRecord& record) {
    std::string out;
    append_audit_json(record, out);
    return out;
}

/// Parses `text` as one JSON value; fails the test when it is not valid JSON.
boost::json::value parse_json(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << "not JSON (" << ec.message() << "): " << text;
    return value;
}

std::string escaped(std::string_view text) {
    std::string out;
    append_json_escaped(text, out);
    return out;
}

/// `text` escaped, quoted and parsed back as a JSON string.
std::string round_trip(std::string_view text) {
    const boost::json::value value = parse_json("\"" + escaped(text) + "\"");
    if (!value.is_string()) {
        ADD_FAILURE() << "not a JSON string";
        return {};
    }
    return std::string(value.as_string());
}

std::string rfc3339(system_clock::time_point tp) {
    std::string out;
    append_rfc3339_ms(tp, out);
    return out;
}

const std::vector<std::string> kContractFields = {
    "ts",     "request_id", "client",   "remote",    "method",      "path",        "pattern",    "decision",
    "code",   "status",     "upstream_status", "bytes_in", "bytes_out", "duration_ms", "upstream_ms",
};

// ---------------------------------------------------------------------------------------------
// append_audit_json

TEST(AuditRecord, IsOneLineEndingInNewline) {
    const std::string line = serialise(allowed_record());
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_EQ(line.front(), '{');
}

TEST(AuditRecord, AppendsWithoutTouchingWhatIsAlreadyThere) {
    std::string out = "previous\n";
    append_audit_json(allowed_record(), out);
    append_audit_json(denied_record(), out);
    EXPECT_EQ(out.substr(0, 9), "previous\n");
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

TEST(AuditRecord, HasExactlyTheContractFieldsInOrder) {
    for (const AuditRecord& record : {allowed_record(), denied_record()}) {
        const boost::json::value value = parse_json(serialise(record));
        ASSERT_TRUE(value.is_object());
        std::vector<std::string> keys;
        for (const auto& field : value.as_object()) keys.emplace_back(field.key());
        EXPECT_EQ(keys, kContractFields);
    }
}

TEST(AuditRecord, AllowedRecordValues) {
    const boost::json::value value = parse_json(serialise(allowed_record()));
    const boost::json::object& o = value.as_object();
    EXPECT_EQ(o.at("ts").as_string(), "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(o.at("request_id").as_string(), "req-1");
    EXPECT_EQ(o.at("client").as_string(), "billing");
    EXPECT_EQ(o.at("remote").as_string(), "10.0.0.7:51234");
    EXPECT_EQ(o.at("method").as_string(), "GET");
    EXPECT_EQ(o.at("path").as_string(), "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/rooms");
    EXPECT_EQ(o.at("pattern").as_string(), "/api/v5/orgs/<organization_id>/rooms");
    EXPECT_EQ(o.at("decision").as_string(), "allow");
    EXPECT_EQ(o.at("code").as_string(), "ok");
    EXPECT_EQ(o.at("status").to_number<int>(), 200);
    EXPECT_EQ(o.at("upstream_status").to_number<int>(), 200);
    EXPECT_EQ(o.at("bytes_in").to_number<std::uint64_t>(), 12u);
    EXPECT_EQ(o.at("bytes_out").to_number<std::uint64_t>(), 3456u);
    EXPECT_DOUBLE_EQ(o.at("duration_ms").to_number<double>(), 12.5);
    EXPECT_DOUBLE_EQ(o.at("upstream_ms").to_number<double>(), 10.25);
}

TEST(AuditRecord, DeniedRecordHasNullsWhereOptionalsAreEmpty) {
    const boost::json::value value = parse_json(serialise(denied_record()));
    const boost::json::object& o = value.as_object();
    EXPECT_TRUE(o.at("client").is_null());
    EXPECT_TRUE(o.at("pattern").is_null());
    EXPECT_TRUE(o.at("upstream_status").is_null());
    EXPECT_TRUE(o.at("upstream_ms").is_null());
    EXPECT_EQ(o.at("decision").as_string(), "deny");
    EXPECT_EQ(o.at("code").as_string(), "not_authenticated");
    EXPECT_EQ(o.at("status").to_number<int>(), 401);
    EXPECT_EQ(o.at("remote").as_string(), "[::1]:40000");
    EXPECT_EQ(o.at("bytes_in").to_number<std::uint64_t>(), 0u);
    EXPECT_EQ(o.at("bytes_out").to_number<std::uint64_t>(), 0u);
    EXPECT_DOUBLE_EQ(o.at("duration_ms").to_number<double>(), 0.0);
}

TEST(AuditRecord, UpstreamErrorStatusIsStillCodeOkAndAllow) {
    AuditRecord record = allowed_record();
    record.status = 503;
    record.upstream_status = 503;
    const boost::json::value value = parse_json(serialise(record));
    EXPECT_EQ(value.at("code").as_string(), "ok");
    EXPECT_EQ(value.at("decision").as_string(), "allow");
    EXPECT_EQ(value.at("status").to_number<int>(), 503);
    EXPECT_EQ(value.at("upstream_status").to_number<int>(), 503);
}

TEST(AuditRecord, ClientClosedIs499) {
    AuditRecord record = allowed_record();
    record.code = Reason::client_closed;
    record.status = reason_status(Reason::client_closed);
    record.upstream_status.reset();
    const boost::json::value value = parse_json(serialise(record));
    EXPECT_EQ(value.at("code").as_string(), "client_closed");
    EXPECT_EQ(value.at("status").to_number<int>(), 499);
    EXPECT_TRUE(value.at("upstream_status").is_null());
}

TEST(AuditRecord, EveryReasonCodeSerialisesAsItsContractCode) {
    for (int i = 0; i < kReasonCount; ++i) {
        AuditRecord record = denied_record();
        record.code = static_cast<Reason>(i);
        record.status = reason_status(record.code);
        const boost::json::value value = parse_json(serialise(record));
        EXPECT_EQ(value.at("code").as_string(), reason_code(record.code));
        EXPECT_EQ(value.at("status").to_number<int>(), reason_status(record.code));
    }
}

TEST(AuditRecord, LargeByteCountsAreExact) {
    AuditRecord record = allowed_record();
    record.bytes_in = 10'000'000'000ull;
    record.bytes_out = 9'007'199'254'740'993ull;  // beyond a double's exact range
    const std::string line = serialise(record);
    EXPECT_NE(line.find("\"bytes_in\":10000000000,"), std::string::npos) << line;
    EXPECT_NE(line.find("\"bytes_out\":9007199254740993,"), std::string::npos) << line;
    parse_json(line);
}

TEST(AuditRecord, DurationsHaveThreeDecimals) {
    AuditRecord record = allowed_record();
    record.duration_ms = 1.23456;
    record.upstream_ms = 0.0;
    const std::string line = serialise(record);
    EXPECT_NE(line.find("\"duration_ms\":1.235,"), std::string::npos) << line;
    EXPECT_NE(line.find("\"upstream_ms\":0.000}"), std::string::npos) << line;
}

TEST(AuditRecord, HostileStringsStayValidJson) {
    AuditRecord record = allowed_record();
    const std::string request_id = "a\"b\\c\x01\x7f";
    const std::string path = "/x\xff\xc3/\xe2\x82\xac\n";
    const std::string method = "G\tET";
    record.request_id = request_id;
    record.path = path;
    record.method = method;
    record.client = "cl\"ient";
    record.pattern = "/<p\\>";
    const std::string line = serialise(record);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_EQ(line.back(), '\n');
    const boost::json::value value = parse_json(line);
    ASSERT_TRUE(value.is_object());
    EXPECT_EQ(value.at("request_id").as_string(), request_id);
    EXPECT_EQ(value.at("method").as_string(), method);
    EXPECT_EQ(value.at("client").as_string(), "cl\"ient");
    EXPECT_EQ(value.at("pattern").as_string(), "/<p\\>");
    EXPECT_EQ(value.as_object().size(), kContractFields.size());
}

// ---------------------------------------------------------------------------------------------
// append_rfc3339_ms

TEST(AuditTimestamp, FixedTimePointFormatsAsRfc3339WithMilliseconds) {
    EXPECT_EQ(rfc3339(system_clock::time_point(kFixedTime)), "2023-11-14T22:13:20.123Z");
}

TEST(AuditTimestamp, EpochAndPaddedFields) {
    EXPECT_EQ(rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
    // 2001-02-03T04:05:06.007Z: every field needs its leading zero.
    EXPECT_EQ(rfc3339(system_clock::time_point(milliseconds{981173106007})), "2001-02-03T04:05:06.007Z");
}

TEST(AuditTimestamp, SubMillisecondsAreTruncatedNotRounded) {
    const auto tp = system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
        std::chrono::microseconds{1700000000123999}));
    EXPECT_EQ(rfc3339(tp), "2023-11-14T22:13:20.123Z");
}

TEST(AuditTimestamp, LeapDayAndEndOfYear) {
    EXPECT_EQ(rfc3339(system_clock::time_point(milliseconds{1709251199999})), "2024-02-29T23:59:59.999Z");
    EXPECT_EQ(rfc3339(system_clock::time_point(milliseconds{1735689599999})), "2024-12-31T23:59:59.999Z");
}

TEST(AuditTimestamp, HasTheFixedShape) {
    const std::string ts = rfc3339(system_clock::now());
    ASSERT_EQ(ts.size(), 24u) << ts;
    for (std::size_t i = 0; i < ts.size(); ++i) {
        const char c = ts[i];
        switch (i) {
            case 4: case 7: EXPECT_EQ(c, '-') << ts; break;
            case 10: EXPECT_EQ(c, 'T') << ts; break;
            case 13: case 16: EXPECT_EQ(c, ':') << ts; break;
            case 19: EXPECT_EQ(c, '.') << ts; break;
            case 23: EXPECT_EQ(c, 'Z') << ts; break;
            default: EXPECT_TRUE(c >= '0' && c <= '9') << ts; break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// append_json_escaped

TEST(AuditEscaping, QuoteAndBackslashAreEscaped) {
    EXPECT_EQ(escaped("a\"b"), "a\\\"b");
    EXPECT_EQ(escaped("a\\b"), "a\\\\b");
    EXPECT_EQ(escaped("\"\\\""), "\\\"\\\\\\\"");
}

TEST(AuditEscaping, CommonControlCharactersUseShortEscapes) {
    EXPECT_EQ(escaped("\n"), "\\n");
    EXPECT_EQ(escaped("\r"), "\\r");
    EXPECT_EQ(escaped("\t"), "\\t");
}

TEST(AuditEscaping, OtherControlCharactersAndDelUseUnicodeEscapes) {
    using namespace std::string_view_literals;
    EXPECT_EQ(escaped("\x01"), "\\u0001");
    EXPECT_EQ(escaped("\x1f"), "\\u001f");
    EXPECT_EQ(escaped("\x08\x0c"), "\\u0008\\u000c");
    EXPECT_EQ(escaped("\0"sv), "\\u0000");
    EXPECT_EQ(escaped("\x7f"), "\\u007f");
}

TEST(AuditEscaping, EveryControlByteRoundTrips) {
    for (int c = 0; c < 0x20; ++c) {
        const std::string text(1, static_cast<char>(c));
        EXPECT_EQ(round_trip(text), text) << "byte " << c;
    }
    EXPECT_EQ(round_trip("\x7f"), "\x7f");
}

TEST(AuditEscaping, PrintableAsciiIsKept) {
    std::string printable;
    for (int c = 0x20; c < 0x7f; ++c)
        if (c != '"' && c != '\\') printable.push_back(static_cast<char>(c));
    EXPECT_EQ(escaped(printable), printable);
    EXPECT_EQ(escaped("/api/v5/orgs/<organization_id>/rooms?x=1"), "/api/v5/orgs/<organization_id>/rooms?x=1");
    EXPECT_EQ(escaped(""), "");
}

TEST(AuditEscaping, ValidMultiByteUtf8IsKept) {
    const std::vector<std::string> texts = {
        "\xc3\xa9",                 // é (2 bytes)
        "\xc2\x80",                 // U+0080, the smallest 2-byte
        "\xe2\x82\xac",             // € (3 bytes)
        "\xef\xbf\xbf",             // U+FFFF
        "\xf0\x9f\x98\x80",         // 😀 (4 bytes)
        "\xf4\x8f\xbf\xbf",         // U+10FFFF, the largest
        "caf\xc3\xa9 \xe2\x82\xac", // mixed with ASCII
    };
    for (const std::string& text : texts) {
        EXPECT_EQ(escaped(text), text);
        EXPECT_EQ(round_trip(text), text);
    }
}

TEST(AuditEscaping, InvalidUtf8BytesBecomeUnicodeEscapes) {
    EXPECT_EQ(escaped("\xff"), "\\u00ff");
    EXPECT_EQ(escaped("\x80"), "\\u0080");                      // lone continuation byte
    EXPECT_EQ(escaped("\xc3"), "\\u00c3");                      // truncated at the end
    EXPECT_EQ(escaped("\xc3x"), "\\u00c3x");                    // lead byte without continuation
    EXPECT_EQ(escaped("\xe2\x82"), "\\u00e2\\u0082");           // truncated 3-byte sequence
    EXPECT_EQ(escaped("\xc0\xaf"), "\\u00c0\\u00af");           // overlong '/'
    EXPECT_EQ(escaped("\xe0\x80\xaf"), "\\u00e0\\u0080\\u00af");  // overlong 3-byte
    EXPECT_EQ(escaped("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");  // UTF-16 surrogate
    EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080");  // above U+10FFFF
    EXPECT_EQ(escaped("\xf8\x88\x80\x80\x80"), "\\u00f8\\u0088\\u0080\\u0080\\u0080");  // 5-byte form
    // A valid sequence right after an invalid byte is still kept.
    EXPECT_EQ(escaped("\xff\xc3\xa9"), "\\u00ff\xc3\xa9");
}

TEST(AuditEscaping, EveryByteValueProducesValidJson) {
    for (int c = 0; c < 256; ++c) {
        const std::string text = "a" + std::string(1, static_cast<char>(c)) + "z";
        parse_json("\"" + escaped(text) + "\"");
    }
    // And every pair, which covers every lead byte followed by every possible second byte.
    for (int a = 0x80; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            std::string text;
            text.push_back(static_cast<char>(a));
            text.push_back(static_cast<char>(b));
            boost::system::error_code ec;
            boost::json::parse("\"" + escaped(text) + "\"", ec);
            ASSERT_FALSE(ec) << "bytes " << a << ", " << b;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AuditRing

std::size_t drain_all(AuditRing& ring, std::string& out) {
    return ring.drain([&out](std::string& line) { out.append(line); });
}

/// How many lines fit before try_push returns false.
std::size_t fill(AuditRing& ring) {
    std::size_t pushed = 0;
    for (;;) {
        std::string line = "line " + std::to_string(pushed) + "\n";
        if (!ring.try_push(line)) return pushed;
        ++pushed;
        if (pushed > 1'000'000) return pushed;  // would be a broken ring; fail instead of hanging
    }
}

TEST(AuditRing, DrainsInPushOrder) {
    AuditRing ring(8);
    for (int i = 0; i < 5; ++i) {
        std::string line = "l" + std::to_string(i) + "\n";
        ASSERT_TRUE(ring.try_push(line));
        EXPECT_TRUE(line.empty()) << "the pushed line is moved into the ring";
    }
    std::string out;
    EXPECT_EQ(drain_all(ring, out), 5u);
    EXPECT_EQ(out, "l0\nl1\nl2\nl3\nl4\n");
}

TEST(AuditRing, DrainAppendsAndEmptiesTheRing) {
    AuditRing ring(4);
    std::string line = "a\n";
    ASSERT_TRUE(ring.try_push(line));
    std::string out = "before\n";
    EXPECT_EQ(drain_all(ring, out), 1u);
    EXPECT_EQ(out, "before\na\n");
    EXPECT_EQ(drain_all(ring, out), 0u);
    EXPECT_EQ(out, "before\na\n");
}

TEST(AuditRing, FullRingReturnsFalseAndLeavesTheLineUntouched) {
    AuditRing ring(4);
    EXPECT_EQ(fill(ring), 4u);
    std::string line = "kept\n";
    EXPECT_FALSE(ring.try_push(line));
    EXPECT_EQ(line, "kept\n");
    std::string out;
    EXPECT_EQ(drain_all(ring, out), 4u);
    EXPECT_EQ(out, "line 0\nline 1\nline 2\nline 3\n");
    EXPECT_TRUE(ring.try_push(line));
}

TEST(AuditRing, CapacityIsRoundedUpToAPowerOfTwo) {
    const std::vector<std::pair<std::size_t, std::size_t>> cases = {
        {0, 2}, {1, 2}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 16}, {100, 128}, {1024, 1024},
    };
    for (const auto& [requested, expected] : cases) {
        AuditRing ring(requested);
        EXPECT_EQ(fill(ring), expected) << "requested " << requested;
    }
}

TEST(AuditRing, DrainedSlotsAreReused) {
    AuditRing ring(4);
    std::size_t next = 0;
    std::size_t expected = 0;
    // Many times round the ring, with varying fill levels, so the indices wrap.
    for (int round = 0; round < 50; ++round) {
        const std::size_t count = 1 + static_cast<std::size_t>(round) % 4;
        for (std::size_t i = 0; i < count; ++i) {
            std::string line = std::to_string(next++) + "\n";
            ASSERT_TRUE(ring.try_push(line)) << "round " << round;
        }
        std::string out;
        ASSERT_EQ(drain_all(ring, out), count);
        std::string want;
        for (std::size_t i = 0; i < count; ++i) want += std::to_string(expected++) + "\n";
        EXPECT_EQ(out, want);
    }
    EXPECT_EQ(fill(ring), 4u);
}

TEST(AuditRing, PushHandsBackAnEmptyBufferForReuse) {
    AuditRing ring(2);
    std::string line(200, 'x');
    ASSERT_TRUE(ring.try_push(line));
    EXPECT_TRUE(line.empty());
    line = "second\n";
    ASSERT_TRUE(ring.try_push(line));
    EXPECT_TRUE(line.empty());
    std::string out;
    EXPECT_EQ(drain_all(ring, out), 2u);
    EXPECT_EQ(out, std::string(200, 'x') + "second\n");
}

// A ring holds at most kKeptBuffers dormant buffers once drained, however many slots it has:
// the worker gets a reusable buffer back from those slots and an empty one from the others.
TEST(AuditRing, OnlyTheFirstSlotsKeepTheirBufferOnceDrained) {
    constexpr std::size_t kSlots = 4 * AuditRing::kKeptBuffers;
    AuditRing ring(kSlots);
    ASSERT_EQ(ring.capacity(), kSlots);
    const std::string record(400, 'r');
    std::string out;
    for (std::size_t i = 0; i < kSlots; ++i) {  // once round: every slot gets a record, drained at once
        std::string line = record;
        ASSERT_TRUE(ring.try_push(line));
        out.clear();
        ASSERT_EQ(drain_all(ring, out), 1u);
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < kSlots; ++i) {  // round again: what does each slot hand back?
        std::string line = record;
        ASSERT_TRUE(ring.try_push(line));
        EXPECT_TRUE(line.empty());
        if (line.capacity() >= record.size()) ++kept;
        EXPECT_EQ(line.capacity() >= record.size(), i < AuditRing::kKeptBuffers) << "slot " << i;
        out.clear();
        ASSERT_EQ(drain_all(ring, out), 1u);
        EXPECT_EQ(out, record);
    }
    EXPECT_EQ(kept, AuditRing::kKeptBuffers);
}

// ---------------------------------------------------------------------------------------------
// AuditWriter

class AuditWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "giosg-audit-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = dir_ / "audit.jsonl";
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    AuditWriter::Options options(std::size_t ring_capacity = 1u << 16, milliseconds flush = 20ms) const {
        AuditWriter::Options o;
        o.path = path_;
        o.flush_interval = flush;
        o.ring_capacity = ring_capacity;
        return o;
    }

    std::string contents() const {
        std::ifstream in(path_, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    /// lines(), each with its '\n' again.
    std::string joined() const {
        std::string text;
        for (const auto& line : lines()) text.append(line).push_back('\n');
        return text;
    }

    /// The records as they were submitted: each line's chain is checked (seq, prev, hash), then
    /// the chain members are taken off.
    std::vector<std::string> lines() const {
        std::vector<std::string> result;
        const std::string text = contents();
        std::size_t start = 0;
        audit::ChainState chain;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            if (end == std::string::npos) {
                ADD_FAILURE() << "torn last line: " << text.substr(start);
                break;
            }
            const std::string line = text.substr(start, end - start);
            start = end + 1;
            const auto split = audit::split_chained_line(line);
            if (!split) {
                ADD_FAILURE() << "not a chained line: " << line;
                continue;
            }
            EXPECT_EQ(split->seq, chain.seq + 1) << line;
            EXPECT_EQ(split->prev, chain.last_hash_view()) << line;
            const auto hash = audit::compute_hash(*split);
            EXPECT_EQ(split->hash, std::string_view(hash.data(), hash.size())) << line;
            chain.seq = split->seq;
            chain.last_hash = hash;
            const auto prefix = line.find("\",", line.find("\"prev\":\"")) + 2;
            result.push_back("{" + std::string(split->canonical_head.substr(prefix)) + "}");
        }
        return result;
    }

    std::filesystem::path dir_;
    std::filesystem::path path_;
};

std::string numbered_line(int producer, int seq) {
    // Long enough that a torn or interleaved write would show.
    return "{\"producer\":" + std::to_string(producer) + ",\"n\":" + std::to_string(seq) + ",\"pad\":\"" +
           std::string(64 + static_cast<std::size_t>(seq % 97), 'p') + "\"}\n";
}

TEST_F(AuditWriterTest, CreatesTheFileOnConstruction) {
    AuditWriter writer(options());
    EXPECT_TRUE(std::filesystem::exists(path_));
    EXPECT_EQ(contents(), "");
}

TEST_F(AuditWriterTest, WritesSubmittedLinesInOrder) {
    AuditWriter writer(options());
    AuditRing& ring = writer.add_producer();
    writer.start();
    std::string expected;
    for (int i = 0; i < 10; ++i) {
        std::string line = serialise(allowed_record());
        line.insert(1, "\"n\":" + std::to_string(i) + ",");
        expected += line;
        writer.submit(ring, line);
        EXPECT_TRUE(line.empty());
    }
    writer.stop();
    EXPECT_EQ(joined(), expected);
    EXPECT_EQ(writer.lines_written(), 10u);
    EXPECT_EQ(writer.write_failures(), 0u);
    for (const std::string& line : lines()) parse_json(line);
}

TEST_F(AuditWriterTest, LinesAppearWithoutStopWithinTheFlushInterval) {
    AuditWriter writer(options(1024, 5ms));
    AuditRing& ring = writer.add_producer();
    writer.start();
    std::string line = "{\"a\":1}\n";
    writer.submit(ring, line);
    // docs/reference.md §4: written within 1 s.
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (contents().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(joined(), "{\"a\":1}\n");
    writer.stop();
}

TEST_F(AuditWriterTest, StopFlushesEverythingEvenWithALongFlushInterval) {
    AuditWriter writer(options(1024, 60s));
    AuditRing& ring = writer.add_producer();
    writer.start();
    for (int i = 0; i < 500; ++i) {
        std::string line = numbered_line(0, i);
        writer.submit(ring, line);
    }
    writer.stop();
    const std::vector<std::string> written = lines();
    ASSERT_EQ(written.size(), 500u);
    for (int i = 0; i < 500; ++i) EXPECT_EQ(written[static_cast<std::size_t>(i)] + "\n", numbered_line(0, i));
    EXPECT_EQ(writer.lines_written(), 500u);
}

TEST_F(AuditWriterTest, StopWithoutStartStillWritesQueuedLines) {
    AuditWriter writer(options());
    AuditRing& ring = writer.add_producer();
    for (int i = 0; i < 3; ++i) {
        std::string line = numbered_line(0, i);
        writer.submit(ring, line);
    }
    writer.stop();
    EXPECT_EQ(joined(), numbered_line(0, 0) + numbered_line(0, 1) + numbered_line(0, 2));
    // Every line that reached the file counts, including those stop() drains itself.
    EXPECT_EQ(writer.lines_written(), 3u);
}

TEST_F(AuditWriterTest, StopIsIdempotentAndDestructorFlushes) {
    {
        AuditWriter writer(options());
        AuditRing& ring = writer.add_producer();
        writer.start();
        std::string line = "{\"first\":1}\n";
        writer.submit(ring, line);
        writer.stop();
        writer.stop();
    }
    {
        AuditWriter writer(options());
        AuditRing& ring = writer.add_producer();
        writer.start();
        std::string line = "{\"second\":2}\n";
        writer.submit(ring, line);
        // No stop(): the destructor must flush.
    }
    EXPECT_EQ(joined(), "{\"first\":1}\n{\"second\":2}\n");
}

TEST_F(AuditWriterTest, AppendsToAnExistingFileContinuingItsChain) {
    {
        AuditWriter first(options());
        AuditRing& ring = first.add_producer();
        std::string line = "{\"old\":true}\n";
        first.submit(ring, line);
    }
    AuditWriter writer(options());
    AuditRing& ring = writer.add_producer();
    writer.start();
    std::string line = "{\"new\":true}\n";
    writer.submit(ring, line);
    writer.stop();
    EXPECT_EQ(joined(), "{\"old\":true}\n{\"new\":true}\n");  // lines() checked seq 1, 2 and the link
}

TEST_F(AuditWriterTest, UnopenablePathThrowsNamingThePath) {
    AuditWriter::Options o = options();
    o.path = dir_ / "missing-dir" / "audit.jsonl";
    try {
        AuditWriter writer(o);
        FAIL() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(o.path.string()), std::string::npos) << e.what();
    }
}

TEST_F(AuditWriterTest, LinesFromSeveralRingsAllArrive) {
    AuditWriter writer(options());
    std::vector<AuditRing*> rings;
    for (int p = 0; p < 3; ++p) rings.push_back(&writer.add_producer());
    writer.start();
    for (int i = 0; i < 50; ++i) {
        for (int p = 0; p < 3; ++p) {
            std::string line = numbered_line(p, i);
            writer.submit(*rings[static_cast<std::size_t>(p)], line);
        }
    }
    writer.stop();
    const std::vector<std::string> written = lines();
    ASSERT_EQ(written.size(), 150u);
    // Each producer's lines keep their order; all of them are there.
    std::vector<int> next(3, 0);
    for (const std::string& line : written) {
        const boost::json::value value = parse_json(line);
        const int p = value.at("producer").to_number<int>();
        ASSERT_GE(p, 0);
        ASSERT_LT(p, 3);
        EXPECT_EQ(line + "\n", numbered_line(p, next[static_cast<std::size_t>(p)]));
        ++next[static_cast<std::size_t>(p)];
    }
    EXPECT_EQ(next, std::vector<int>({50, 50, 50}));
    EXPECT_EQ(writer.lines_written(), 150u);
}

TEST_F(AuditWriterTest, FullRingDropsAnUnreservedRecordAndAGapRecordCountsIt) {
    AuditWriter writer(options(2));
    AuditRing& ring = writer.add_producer();
    // The thread is not started: the ring holds two lines, the third finds no room. No worker
    // blocks on the writer any more (docs/audit.md "Under load").
    for (int i = 0; i < 3; ++i) {
        std::string line = numbered_line(0, i);
        EXPECT_EQ(writer.submit(ring, line), i < 2 ? static_cast<std::uint64_t>(i + 1) : 0u);
        EXPECT_TRUE(line.empty());
    }
    EXPECT_EQ(writer.dropped(), 1u);
    EXPECT_EQ(contents(), "");
    writer.stop();
    const std::vector<std::string> written = lines();
    ASSERT_EQ(written.size(), 3u);
    EXPECT_NE(written[0].find("\"kind\":\"gap\""), std::string::npos) << written[0];
    EXPECT_NE(written[0].find("\"dropped\":1"), std::string::npos) << written[0];
    EXPECT_EQ(written[1] + "\n", numbered_line(0, 0));
    EXPECT_EQ(written[2] + "\n", numbered_line(0, 1));
}

TEST_F(AuditWriterTest, AReservationAlwaysFindsRoomAndHoldsItAgainstOthers) {
    AuditWriter writer(options(4));
    AuditRing& ring = writer.add_producer();
    ASSERT_TRUE(ring.try_reserve());
    ASSERT_TRUE(ring.try_reserve());
    for (int i = 0; i < 2; ++i) {
        std::string line = numbered_line(0, i);
        EXPECT_NE(writer.submit(ring, line), 0u);  // unreserved: the two free slots
    }
    EXPECT_FALSE(ring.try_reserve());
    std::string unreserved = numbered_line(0, 9);
    EXPECT_EQ(writer.submit(ring, unreserved), 0u);  // the reserved slots are not for it
    for (int i = 2; i < 4; ++i) {
        std::string line = numbered_line(0, i);
        EXPECT_NE(writer.submit(ring, line, true), 0u);
    }
    EXPECT_EQ(ring.queued_records(), 4u);
    EXPECT_GE(ring.fill(), 1.0);
    writer.stop();
    EXPECT_EQ(ring.queued_records(), 0u);
    EXPECT_EQ(ring.queued_bytes(), 0u);
    EXPECT_EQ(lines().size(), 5u);  // a gap for the unreserved one, then the four
    EXPECT_EQ(writer.dropped(), 1u);
}

TEST_F(AuditWriterTest, RefusalsForWantOfRoomAreSummedUpInOneBacklogRecord) {
    AuditWriter writer(options());
    AuditRing& ring = writer.add_producer();
    const auto from = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764900000123));
    ring.count_refused(from);
    ring.count_refused(from + 1s);
    ring.count_refused(from + 2s);
    std::string line = numbered_line(0, 0);
    writer.submit(ring, line);
    writer.stop();
    const std::vector<std::string> written = lines();
    ASSERT_EQ(written.size(), 2u);
    const boost::json::value backlog = parse_json(written[0]);
    EXPECT_EQ(backlog.at("kind").as_string(), "backlog");
    EXPECT_EQ(backlog.at("refused").to_number<int>(), 3);
    EXPECT_EQ(backlog.at("from").as_string(), "2025-12-05T02:00:00.123Z");
    EXPECT_EQ(backlog.at("to").as_string(), "2025-12-05T02:00:02.123Z");
    EXPECT_EQ(ring.refused_total(), 3u);
    EXPECT_EQ(writer.queue_refused(), 3u);
}

TEST_F(AuditWriterTest, TheByteBoundLimitsReservationsAndAReleasedOneIsFreeAgain) {
    AuditWriter::Options o = options();
    o.queue_bytes = 16 * AuditRing::kReservedBytes;  // the smallest share a ring gets
    AuditWriter writer(o);
    AuditRing& ring = writer.add_producer();
    EXPECT_EQ(ring.byte_budget(), 16 * AuditRing::kReservedBytes);
    int reserved = 0;
    while (reserved < 100 && ring.try_reserve()) ++reserved;
    EXPECT_EQ(reserved, 16);
    ring.release_reservation();
    EXPECT_TRUE(ring.try_reserve());
    EXPECT_FALSE(ring.try_reserve());
    for (int i = 0; i < 16; ++i) ring.release_reservation();
    EXPECT_EQ(ring.fill(), 0.0);
}

/// Two producer threads, each with its own ring, while the writer thread runs.
void run_concurrent_producers(AuditWriter& writer, int lines_per_producer) {
    std::vector<AuditRing*> rings = {&writer.add_producer(), &writer.add_producer()};
    writer.start();
    std::vector<std::thread> producers;
    for (int p = 0; p < 2; ++p) {
        producers.emplace_back([&writer, ring = rings[static_cast<std::size_t>(p)], p, lines_per_producer] {
            std::string line;
            for (int i = 0; i < lines_per_producer; ++i) {
                line = numbered_line(p, i);
                // As a worker under on_failure "deny" does: wait for room, never drop.
                while (!ring->try_reserve()) {
                    writer.want_room(*ring);
                    std::this_thread::yield();
                }
                writer.submit(*ring, line, true);
            }
        });
    }
    for (std::thread& t : producers) t.join();
    writer.stop();
}

void expect_every_line_intact(const std::vector<std::string>& written, int lines_per_producer, bool ordered) {
    ASSERT_EQ(written.size(), static_cast<std::size_t>(2 * lines_per_producer));
    std::vector<std::vector<bool>> seen(2, std::vector<bool>(static_cast<std::size_t>(lines_per_producer), false));
    std::vector<int> next(2, 0);
    for (const std::string& line : written) {
        boost::system::error_code ec;
        const boost::json::value value = boost::json::parse(line, ec);
        ASSERT_FALSE(ec) << "torn line: " << line;
        const int p = value.at("producer").to_number<int>();
        const int i = value.at("n").to_number<int>();
        ASSERT_TRUE(p == 0 || p == 1) << line;
        ASSERT_TRUE(i >= 0 && i < lines_per_producer) << line;
        ASSERT_EQ(line + "\n", numbered_line(p, i));
        auto&& slot = seen[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)];
        ASSERT_FALSE(slot) << "duplicate: " << line;
        slot = true;
        if (ordered) {
            ASSERT_EQ(i, next[static_cast<std::size_t>(p)]) << "out of order: " << line;
            ++next[static_cast<std::size_t>(p)];
        }
    }
}

TEST_F(AuditWriterTest, TwoProducerThreadsWriteEveryLineIntact) {
    constexpr int kLinesPerProducer = 10000;
    AuditWriter writer(options(1u << 16, 1ms));
    run_concurrent_producers(writer, kLinesPerProducer);
    // The rings never filled, so each producer's lines also keep their order.
    expect_every_line_intact(lines(), kLinesPerProducer, /*ordered=*/true);
    EXPECT_EQ(writer.lines_written(), 2u * kLinesPerProducer);
    EXPECT_EQ(writer.write_failures(), 0u);
}

TEST_F(AuditWriterTest, TwoProducerThreadsWithTinyRingsStillWriteEveryLineIntact) {
    // Rings of 8 fill constantly: the producers wait for room, waking the writer, and nothing is lost.
    constexpr int kLinesPerProducer = 10000;
    AuditWriter writer(options(8, 1ms));
    run_concurrent_producers(writer, kLinesPerProducer);
    expect_every_line_intact(lines(), kLinesPerProducer, /*ordered=*/true);
    EXPECT_EQ(writer.dropped(), 0u);
    EXPECT_EQ(writer.lines_written(), 2u * kLinesPerProducer);
    EXPECT_EQ(writer.write_failures(), 0u);
}

}  // namespace
}  // namespace giosg
