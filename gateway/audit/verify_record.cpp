#include "audit/verify_record.hpp"

#include <optional>
#include <span>
#include <utility>

#include <boost/json/parse.hpp>

namespace giosg::audit {

namespace json = boost::json;

namespace {

// What each record kind must carry (README "Integrity"); a request record carries docs/reference.md §4.
enum class Type { any, string, count };
struct Member {
    std::string_view name;
    Type type;
};
constexpr Member kRequestMembers[] = {
    {"ts", Type::any},          {"request_id", Type::any},      {"client", Type::any},
    {"remote", Type::any},      {"method", Type::any},          {"path", Type::any},
    {"pattern", Type::any},     {"decision", Type::any},        {"code", Type::any},
    {"status", Type::any},      {"upstream_status", Type::any}, {"bytes_in", Type::any},
    {"bytes_out", Type::any},   {"duration_ms", Type::any},     {"upstream_ms", Type::any},
};
constexpr Member kRotationMembers[] = {
    {"ts", Type::string},           {"reason", Type::string},    {"previous_file", Type::string},
    {"previous_bytes", Type::count}, {"torn_bytes", Type::count},
};
constexpr Member kCheckpointMembers[] = {
    {"ts", Type::string}, {"reason", Type::string}, {"key_id", Type::string}, {"sig", Type::string}};
constexpr Member kGapMembers[] = {{"ts", Type::string}, {"dropped", Type::count}};
constexpr Member kBacklogMembers[] = {
    {"ts", Type::string}, {"refused", Type::count}, {"from", Type::string}, {"to", Type::string}};
constexpr Member kCorrectionMembers[] = {{"ts", Type::string},   {"request_id", Type::string},
                                         {"code", Type::string}, {"status", Type::count},
                                         {"bytes_out", Type::count}};

constexpr Member kPolicyChangeMembers[] = {{"ts", Type::string},     {"change", Type::string},
                                           {"pattern", Type::string}, {"method", Type::string},
                                           {"scopes", Type::any},     {"applied", Type::any}};
// A config reload, also a token file picked up (docs/reference.md §5 "Reload").
constexpr Member kReloadMembers[] = {{"ts", Type::string},
                                     {"result", Type::string},
                                     {"trigger", Type::string},
                                     {"config_sha256", Type::string}};

std::optional<std::span<const Member>> members_of(std::string_view kind) {
    if (kind.empty() || kind == "request") return kRequestMembers;
    if (kind == "rotation") return kRotationMembers;
    if (kind == "checkpoint") return kCheckpointMembers;
    if (kind == "gap") return kGapMembers;
    if (kind == "correction") return kCorrectionMembers;
    if (kind == "policy_change") return kPolicyChangeMembers;
    if (kind == "reload") return kReloadMembers;
    if (kind == "backlog") return kBacklogMembers;
    return std::nullopt;
}

bool has_type(const json::value& value, Type type) {
    switch (type) {
        case Type::any: return true;
        case Type::string: return value.is_string();
        case Type::count: return value.is_uint64() || (value.is_int64() && value.get_int64() >= 0);
    }
    return false;
}

std::string_view view(const json::string& s) { return {s.data(), s.size()}; }

}  // namespace

std::uint64_t count_of(const json::value& value) {
    return value.is_uint64() ? value.get_uint64() : static_cast<std::uint64_t>(value.get_int64());
}

std::string_view string_of(const json::object& record, std::string_view name) {
    return view(record.at(name).get_string());
}

std::string parse_record(std::string_view line, ParsedRecord& record) {
    const auto chained = split_chained_line(line);
    if (!chained) return "not a chained audit record";
    boost::system::error_code ec;
    auto parsed = json::parse(json::string_view(line.data(), line.size()), ec);
    if (ec || !parsed.is_object()) return "not valid JSON";
    record.chained = *chained;
    record.members = std::move(parsed.get_object());
    // JSON keeps the last of repeated members: the ones a reader sees must be those hashed.
    const auto* seq = record.members.if_contains("seq");
    const auto* prev = record.members.if_contains("prev");
    const auto* hash = record.members.if_contains("hash");
    if (seq == nullptr || !has_type(*seq, Type::count) || count_of(*seq) != chained->seq || prev == nullptr ||
        !prev->is_string() || view(prev->get_string()) != chained->prev || hash == nullptr || !hash->is_string() ||
        view(hash->get_string()) != chained->hash)
        return "seq, prev or hash member repeated";
    const auto expected = compute_hash(*chained);
    if (std::string_view(expected.data(), expected.size()) != chained->hash)
        return "hash does not match the record (edited)";

    record.kind = {};
    if (const auto* kind = record.members.if_contains("kind")) {
        if (!kind->is_string()) return "unknown record kind";
        record.kind = view(kind->get_string());
    }
    const auto members = members_of(record.kind);
    if (!members) return "unknown record kind \"" + std::string(record.kind) + "\"";
    for (const auto& member : *members) {
        const auto* value = record.members.if_contains(member.name);
        if (value == nullptr || !has_type(*value, member.type))
            return std::string(record.kind.empty() ? "request" : record.kind) + " record without a valid \"" +
                   std::string(member.name) + "\"";
    }
    return {};
}

}  // namespace giosg::audit
