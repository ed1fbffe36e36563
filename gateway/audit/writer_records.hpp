#pragma once
// The records the audit writer adds to the chain about the chain itself: the rotation record that
// links a file to the one before it, the signed checkpoint, and the gap that counts dropped
// records (README "Integrity"). Each is built as the members that go before seq/prev/hash
// (audit::append_chained).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/chain.hpp"

namespace giosg::audit {

class SigningKey;

/// `"kind":"rotation"`: the file before this one is `previous_file` (its name, not its path), it
/// held `previous_bytes` bytes, the last `torn_bytes` of them a torn line. `reason` is one of the
/// writer's own words ("size", "signal", "restart", "recovered") and is not escaped.
std::string rotation_fields(std::string_view reason, std::string_view previous_file, std::uint64_t previous_bytes,
                            std::uint64_t torn_bytes);

/// `"kind":"checkpoint"`: a signature by `signer` over the record it will be (seq `chain.seq + 1`,
/// prev `chain`'s last hash) and its ts. `reason` as for rotation_fields.
std::string checkpoint_fields(const SigningKey& signer, const ChainState& chain, std::string_view reason);

/// `"kind":"gap"`: `dropped` records were lost just before this one.
std::string gap_fields(std::uint64_t dropped);

/// `"kind":"backlog"`: `refused` requests were answered 503 audit_unavailable between `from` and
/// `to` because the audit queue had no room for their records; none of them reached the upstream.
std::string backlog_fields(std::uint64_t refused, std::chrono::system_clock::time_point from,
                           std::chrono::system_clock::time_point to);

}  // namespace giosg::audit
