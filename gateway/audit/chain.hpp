#pragma once
// The audit hash chain (README "Audit integrity"). Every line the writer appends is
//
//   {"seq":N,"prev":"<64 hex>",<fields of the record>,"hash":"<64 hex>"}\n
//
// and `hash` = lower-case hex SHA-256 over the 64 ASCII characters of `prev` followed by the
// line's canonical bytes: the line without its '\n', with the final `,"hash":"<64 hex>"` member
// removed (so the canonical bytes end in `}`). `prev` is the previous line's `hash`, 64 zeros for
// the first line of a chain. The writer and the verifier both use this file, so they cannot
// disagree about the form; tests/tools/verify_audit.py implements it again independently.
#include <array>
#include <initializer_list>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace giosg::audit {

inline constexpr std::size_t kHashHexSize = 64;
using HashHex = std::array<char, kHashHexSize>;
inline constexpr std::string_view kGenesisPrev = "0000000000000000000000000000000000000000000000000000000000000000";
/// `,"hash":"` + 64 hex + `"}`: the suffix every chained line (without its '\n') ends with.
inline constexpr std::size_t kHashSuffixSize = 9 + kHashHexSize + 2;

/// The chain's hash: lower-case hex SHA-256 of the concatenation of `parts` (the same SHA-256 as
/// hash-key's; see common/sha256.hpp).
HashHex hash_hex(std::initializer_list<std::string_view> parts);

/// The position of a chain: the last line's seq and hash.
struct ChainState {
    std::uint64_t seq = 0;
    HashHex last_hash = genesis();
    static HashHex genesis() noexcept {
        HashHex h;
        h.fill('0');
        return h;
    }
    [[nodiscard]] std::string_view last_hash_view() const noexcept { return {last_hash.data(), last_hash.size()}; }
};

/// Appends `fields` (the record's members without braces, e.g. `"ts":"…","client":null`) as the
/// next chained line to `out` and advances `state`.
void append_chained(ChainState& state, std::string_view fields, std::string& out);

/// Same, for a record serialised as a whole JSON object line (`{…}` with or without '\n').
void append_chained_object(ChainState& state, std::string_view object_line, std::string& out);

/// A chained line split into what the hash covers.
struct ChainedLine {
    std::uint64_t seq = 0;
    std::string_view prev;       // 64 hex
    std::string_view hash;       // 64 hex, as written
    std::string_view canonical_head;  // the line up to the hash member; canonical bytes = this + "}"
};

/// Splits a line (without '\n') of the chained shape; nullopt when the shape does not match
/// (the prefix `{"seq":N,"prev":"<64 hex>",` and the hash suffix are both required).
std::optional<ChainedLine> split_chained_line(std::string_view line) noexcept;

/// Recomputes the hash of a split line.
HashHex compute_hash(const ChainedLine& line);

}  // namespace giosg::audit
