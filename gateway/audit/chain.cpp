#include "audit/chain.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <cstdlib>

namespace giosg::audit {

namespace {
constexpr char kHex[] = "0123456789abcdef";

bool is_lower_hex(std::string_view s) noexcept {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

HashHex finish_hex(EVP_MD_CTX* ctx) {
    unsigned char digest[32];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx, digest, &length) != 1 || length != sizeof digest) std::abort();
    HashHex hex;
    for (std::size_t i = 0; i < sizeof digest; ++i) {
        hex[2 * i] = kHex[digest[i] >> 4];
        hex[2 * i + 1] = kHex[digest[i] & 0xF];
    }
    return hex;
}
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

HashHex Sha256::hex_of(std::initializer_list<std::string_view> parts) {
    auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
    // Only an allocation failure inside OpenSSL can make these fail; a chain with a wrong hash
    // would be worse than stopping.
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
    for (const auto part : parts)
        if (EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) std::abort();
    return finish_hex(ctx);
}

void append_chained(ChainState& state, Sha256& sha, std::string_view fields, std::string& out) {
    const auto start = out.size();
    out.append("{\"seq\":");
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, state.seq + 1);
    out.append(buf, end);
    out.append(",\"prev\":\"").append(state.last_hash_view()).append("\"");
    if (!fields.empty()) {
        out.push_back(',');
        out.append(fields);
    }
    // Canonical bytes: everything so far plus the closing brace.
    const auto hash = sha.hex_of({state.last_hash_view(), std::string_view(out).substr(start), "}"});
    out.append(",\"hash\":\"").append(hash.data(), hash.size()).append("\"}\n");
    state.seq += 1;
    state.last_hash = hash;
}

void append_chained_object(ChainState& state, Sha256& sha, std::string_view object_line, std::string& out) {
    while (!object_line.empty() && (object_line.back() == '\n' || object_line.back() == '\r')) object_line.remove_suffix(1);
    if (object_line.size() >= 2 && object_line.front() == '{' && object_line.back() == '}')
        object_line = object_line.substr(1, object_line.size() - 2);
    append_chained(state, sha, object_line, out);
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

HashHex compute_hash(Sha256& sha, const ChainedLine& line) {
    return sha.hex_of({line.prev, line.canonical_head, "}"});
}

}  // namespace giosg::audit
