#pragma once
// The shared store's decision as one atomic Lua script (docs/reference.md, "Rate limits"): GCRA,
// like the local store, so that a key is one integer and both stores admit the same pattern.
// GCRA rather than a sliding window: a sliding log keeps one entry per request (memory grows
// with the rate), a sliding-window counter approximates; GCRA is exact with one value per key.
// The client's and its credential's buckets are decided together in one round trip, and stored
// only when both admit, so a refused request never spends a token. The time is Redis's own
// (TIME), so replicas whose clocks differ still agree. Pure: builds command arguments and reads
// the reply; the I/O is redis_store.hpp's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "limits/gcra.hpp"
#include "limits/limit.hpp"

namespace giosg::limits {

/// The Lua source, and its SHA-1 in hex (for EVALSHA).
std::string_view gcra_script() noexcept;
const std::string& gcra_script_sha1();

/// The EVALSHA arguments for one client, built once per config: the keys of the buckets that
/// apply (client first) and their emission / tolerance in microseconds.
struct RedisRateCall {
    bool has_client = false;
    bool has_credential = false;
    std::vector<std::string> args;  // "EVALSHA", sha, numkeys, keys..., emission, tolerance, ...
};

/// One call per client (config order); a client with neither rate has no args (nothing to ask).
std::vector<RedisRateCall> make_redis_rate_calls(const Config& config, const LocalLimits& limits);

/// The script's reply {refused, retry_after_us, client_ahead_us}: refused is 0 (admitted),
/// 1 (the first key refused) or 2 (the second).
struct ScriptReply {
    std::int64_t refused = 0;
    std::int64_t retry_after_us = 0;
    std::int64_t client_ahead_us = 0;
};

/// The verdict for `client`'s request from the script's reply.
LimitVerdict verdict_from_reply(const LocalLimits& limits, std::size_t client, const RedisRateCall& call,
                                const ScriptReply& reply) noexcept;

}  // namespace giosg::limits
