// "rate_limits" and the "rate" of clients and credentials (docs/reference.md, "Rate limits").
#include <boost/url/parse.hpp>

#include <charconv>
#include <cmath>

#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

// A rate below one request in 1000 s is a typo for "no access"; above a million a second is
// beyond what one gateway forwards, and keeps the GCRA's nanosecond arithmetic exact enough.
constexpr double kMinPerSecond = 0.001;
constexpr double kMaxPerSecond = 1e6;
constexpr std::int64_t kMaxBurst = 1000000;
constexpr std::int64_t kMaxStoreTimeoutMs = 10000;
constexpr std::int64_t kMaxUpstreamHoldS = 24 * 60 * 60;
constexpr std::size_t kMaxKeyPrefix = 64;

/// Parses redis://[:password@]host[:port][/db]. The URL is never echoed: it may hold a password.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
    constexpr std::string_view kShape = "must be redis://[:password@]host[:port][/db]";
    const auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
    if (!parsed || parsed->scheme() != "redis" || !parsed->has_authority()) {
        error = kShape;
        return std::nullopt;
    }
    const boost::urls::url_view& uri = *parsed;
    RedisAddress result;
    switch (uri.host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6: result.host = uri.host_address(); break;
        case boost::urls::host_type::name:
            result.host = ascii_lower(std::string_view(uri.encoded_host().data(), uri.encoded_host().size()));
            break;
        default: break;
    }
    if (result.host.empty()) {
        error = "missing host";
        return std::nullopt;
    }
    if (uri.has_userinfo()) {
        if (!uri.has_password() || !uri.encoded_user().empty() || uri.password().empty()) {
            error = "user info must be \":password\" (the password alone)";
            return std::nullopt;
        }
        result.password.emplace(std::string(uri.password()));
    }
    if (uri.has_port()) {
        const auto port = uri.port();
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            error = "port must be a number from 1 to 65535";
            return std::nullopt;
        }
        result.port = static_cast<std::uint16_t>(value);
    }
    std::string_view path(uri.encoded_path().data(), uri.encoded_path().size());
    if (!path.empty()) path.remove_prefix(1);  // the "/"
    if (!path.empty()) {
        const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), result.db);
        if (ec != std::errc{} || end != path.data() + path.size() || result.db > 65535) {
            error = "the database must be a number (\"/0\")";
            return std::nullopt;
        }
    }
    if (uri.has_query() || uri.has_fragment()) {
        error = "must not have a query or fragment";
        return std::nullopt;
    }
    return result;
}

}  // namespace

std::optional<RateConfig> read_rate(ObjectReader& entry) {
    auto rate = entry.object("rate");
    if (!rate) return std::nullopt;
    RateConfig result;
    bool ok = true;
    if (const json::value* per_s = rate->get("per_s", Need::required)) {
        const bool number = per_s->is_number();
        const double value = number ? per_s->to_number<double>() : 0;
        if (!number || !std::isfinite(value) || value < kMinPerSecond || value > kMaxPerSecond) {
            rate->error("per_s", "must be a number from 0.001 to 1000000 (requests per second; 0.5 = one every 2 s)");
            ok = false;
        } else {
            result.per_s = value;
        }
    } else {
        ok = false;
    }
    if (auto burst = rate->integer("burst", 1, kMaxBurst, Need::required)) {
        result.burst = static_cast<std::uint32_t>(*burst);
    } else {
        ok = false;
    }
    rate->reject_unknown_keys();
    return ok ? std::optional<RateConfig>(result) : std::nullopt;
}

void read_rate_limits(ObjectReader& top, Config& config) {
    auto section = top.object("rate_limits");
    if (!section) return;
    RateLimitsConfig& result = config.rate_limits;
    if (auto store = section->choice("store", {"local", "redis"})) {
        result.store = *store == 0 ? RateLimitsConfig::Store::local : RateLimitsConfig::Store::redis;
    }
    const bool redis = result.store == RateLimitsConfig::Store::redis;
    if (auto url = section->string("redis_url", redis ? Need::required : Need::optional)) {
        std::string error;
        if (auto address = parse_redis_url(*url, error)) {
            result.redis = std::move(*address);
        } else {
            section->error("redis_url", std::move(error));
        }
    }
    if (auto ms = section->integer("timeout_ms", 1, kMaxStoreTimeoutMs)) result.timeout = std::chrono::milliseconds(*ms);
    if (auto failure = section->choice("on_store_failure", {"local", "deny", "allow"})) {
        result.on_store_failure = static_cast<RateLimitsConfig::OnStoreFailure>(*failure);
    }
    if (auto prefix = section->string("key_prefix")) {
        const bool printable = std::all_of(prefix->begin(), prefix->end(), [](char c) {
            return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
        });
        if (prefix->size() > kMaxKeyPrefix || !printable) {
            section->error("key_prefix", "must be at most 64 printable ASCII characters without spaces");
        } else {
            result.key_prefix = std::move(*prefix);
        }
    }
    if (auto seconds = section->integer("max_upstream_hold_s", 1, kMaxUpstreamHoldS)) {
        result.max_upstream_hold = std::chrono::seconds(*seconds);
    }
    section->reject_unknown_keys();
}

}  // namespace giosg::config_detail
