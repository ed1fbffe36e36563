// "admin_token_sha256", "drain_timeout_ms" and "log": how the gateway is operated
// (docs/reference.md §2 "Top level" and §5).
#include "config/sections.hpp"

namespace giosg::config_detail {

namespace {
constexpr std::int64_t kMaxDrainMs = 10LL * 60 * 1000;  // ten minutes: beyond, an orchestrator kills anyway
}  // namespace

void read_operations(ObjectReader& top, Config& config) {
    if (auto text = top.string("admin_token_sha256", Need::optional, true)) {
        config.admin_token_sha256 = parse_key_digest(*text);
        if (!config.admin_token_sha256)
            top.error("admin_token_sha256", "must be \"sha256:\" and 64 hex digits (see giosg-gateway hash-key)");
    }
    if (auto ms = top.integer("drain_timeout_ms", 0, kMaxDrainMs)) config.drain_timeout = std::chrono::milliseconds(*ms);
    if (auto log = top.object("log")) {
        if (auto level = log->choice("level", {"trace", "debug", "info", "warn", "error", "critical", "off"}))
            config.log.level = static_cast<LogConfig::Level>(*level);
        if (auto format = log->choice("format", {"text", "json"}))
            config.log.format = *format == 0 ? LogConfig::Format::text : LogConfig::Format::json;
        log->reject_unknown_keys();
    }
}

}  // namespace giosg::config_detail
