#include "audit/chain.hpp"

#include <charconv>
#include <cstdlib>

#include "common/format.hpp"
#include "common/hex.hpp"
#include "common/sha256.hpp"

namespace giosg::audit {

HashHex hash_hex(std::initializer_list<std::string_view> parts) {
    const auto digest = sha256_of(parts);
    HashHex hex;
    hex_encode_to(digest, hex.data());
    return hex;
}

void append_chained(ChainState& state, std::string_view fields, std::string& out) {
    const auto start = out.size();
    out.append("{\"seq\":");
    append_uint(out, state.seq + 1);
    out.append(",\"prev\":\"").append(state.last_hash_view()).append("\"");
    if (!fields.empty()) {
        out.push_back(',');
        out.append(fields);
    }
    // Canonical bytes: everything so far plus the closing brace.
    const auto hash = hash_hex({state.last_hash_view(), std::string_view(out).substr(start), "}"});
    out.append(",\"hash\":\"").append(hash.data(), hash.size()).append("\"}\n");
    state.seq += 1;
    state.last_hash = hash;
}

void append_chained_object(ChainState& state, std::string_view object_line, std::string& out) {
    while (!object_line.empty() && (object_line.back() == '\n' || object_line.back() == '\r')) object_line.remove_suffix(1);
    if (object_line.size() >= 2 && object_line.front() == '{' && object_line.back() == '}')
        object_line = object_line.substr(1, object_line.size() - 2);
    append_chained(state, object_line, out);
}

std::optional<ChainedLine> split_chained_line(std::string_view line) noexcept {
    constexpr std::string_view kSeq = "{\"seq\":";
    constexpr std::string_view kPrev = ",\"prev\":\"";
    constexpr std::string_view kHashKey = ",\"hash\":\"";
    if (!line.starts_with(kSeq) || line.size() < kSeq.size() + kHashSuffixSize) return std::nullopt;
    ChainedLine out;
    const char* first = line.data() + kSeq.size();
    const char* last = line.data() + line.size();
    if (first == last || *first == '0' || *first < '0' || *first > '9') return std::nullopt;  // no leading zeros
    auto [p, ec] = std::from_chars(first, last, out.seq);
    if (ec != std::errc{}) return std::nullopt;
    std::string_view rest(p, static_cast<std::size_t>(last - p));
    if (!rest.starts_with(kPrev) || rest.size() < kPrev.size() + kHashHexSize + 1) return std::nullopt;
    out.prev = rest.substr(kPrev.size(), kHashHexSize);
    if (!is_lower_hex(out.prev) || rest[kPrev.size() + kHashHexSize] != '"') return std::nullopt;
    const auto suffix = line.substr(line.size() - kHashSuffixSize);
    if (!suffix.starts_with(kHashKey) || !suffix.ends_with("\"}")) return std::nullopt;
    out.hash = suffix.substr(kHashKey.size(), kHashHexSize);
    if (!is_lower_hex(out.hash)) return std::nullopt;
    out.canonical_head = line.substr(0, line.size() - kHashSuffixSize);
    // The prefix and the suffix must not overlap.
    if (out.canonical_head.size() < kSeq.size() + static_cast<std::size_t>(p - first) + kPrev.size() + kHashHexSize + 1)
        return std::nullopt;
    return out;
}

HashHex compute_hash(const ChainedLine& line) {
    return hash_hex({line.prev, line.canonical_head, "}"});
}

}  // namespace giosg::audit
