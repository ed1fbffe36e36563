#include "limits/redis_script.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "common/hex.hpp"

namespace giosg::limits {
namespace {

// KEYS: one or two bucket keys; ARGV: emission_us and tolerance_us for each key, in order.
// Numbers are Lua doubles: microseconds since 1970 (~1.8e15) stay exact below 2^53. Values are
// written with %.0f because Lua's own number formatting (%.14g) would round them.
constexpr std::string_view kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats = {}
local client_ahead = 0
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local ahead = tat + emission - now
  if ahead > tolerance then return {i, ahead - tolerance, 0} end
  tats[i] = tat + emission
  if i == 1 then client_ahead = ahead end
end
for i = 1, #KEYS do
  local ttl_ms = math.ceil(tonumber(ARGV[2 * i]) / 1000) + 1000
  redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', ttl_ms)
end
return {0, 0, client_ahead}
)lua";

std::string sha1_hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
    return hex_encode(std::span<const std::uint8_t>(digest, size));
}

void add_bucket(std::vector<std::string>& keys, std::vector<std::string>& numbers, std::string key,
                const GcraParams& params) {
    keys.push_back(std::move(key));
    numbers.push_back(std::to_string(std::max<std::int64_t>(1, params.emission_ns / 1000)));
    numbers.push_back(std::to_string(params.tolerance_ns / 1000));
}

}  // namespace

std::string_view gcra_script() noexcept { return kScript; }

const std::string& gcra_script_sha1() {
    static const std::string sha = sha1_hex(kScript);
    return sha;
}

std::vector<RedisRateCall> make_redis_rate_calls(const Config& config, const LocalLimits& limits) {
    std::vector<RedisRateCall> calls;
    const std::string& prefix = config.rate_limits.key_prefix;
    for (std::size_t i = 0; i < limits.client_count(); ++i) {
        const auto& client = limits.client(i);
        const auto& credential = limits.credential(client.credential);
        RedisRateCall call;
        std::vector<std::string> keys, numbers;
        if (client.rate) {
            call.has_client = true;
            add_bucket(keys, numbers, prefix + "client:" + config.clients[i].name, *client.rate);
        }
        if (credential.rate) {
            call.has_credential = true;
            add_bucket(keys, numbers, prefix + "credential:" + credential.name, *credential.rate);
        }
        if (!keys.empty()) {
            call.args = {"EVALSHA", gcra_script_sha1(), std::to_string(keys.size())};
            call.args.insert(call.args.end(), keys.begin(), keys.end());
            call.args.insert(call.args.end(), numbers.begin(), numbers.end());
        }
        calls.push_back(std::move(call));
    }
    return calls;
}

LimitVerdict verdict_from_reply(const LocalLimits& limits, std::size_t client, const RedisRateCall& call,
                                const ScriptReply& reply) noexcept {
    const auto& client_limits = limits.client(client);
    if (reply.refused != 0) {
        const bool by_client = reply.refused == 1 && call.has_client;
        const GcraParams& params =
            by_client ? *client_limits.rate : *limits.credential(client_limits.credential).rate;
        GcraDecision decision;
        decision.retry_after_ns = reply.retry_after_us * 1000;
        return rate_refusal(by_client ? LimitKind::client_rate : LimitKind::credential_rate, params, decision);
    }
    LimitVerdict admitted;
    if (call.has_client) {
        const GcraParams& params = *client_limits.rate;
        const std::int64_t ahead_ns = reply.client_ahead_us * 1000;
        admitted.quota = params.burst;
        admitted.window_s = window_seconds(params);
        admitted.remaining = static_cast<std::uint32_t>(
            std::max<std::int64_t>(0, (params.tolerance_ns - ahead_ns) / params.emission_ns));
        admitted.reset_s = ceil_seconds(ahead_ns);
    }
    return admitted;
}

}  // namespace giosg::limits
