// "limits": what one request may cost the gateway.
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMinHeaderBytes = 1024;
constexpr std::int64_t kMaxHeaderBytes = 1024 * 1024;
constexpr std::int64_t kMaxBodyBytes = 1024 * 1024 * 1024;
constexpr std::int64_t kMaxRewriteBytes = 1024 * 1024 * 1024;  // 0: never buffer to rewrite

}  // namespace

void read_limits(ObjectReader& top, Config& config) {
    auto limits = top.object("limits");
    if (!limits) return;
    Limits& result = config.limits;
    if (auto bytes = limits->integer("max_header_bytes", kMinHeaderBytes, kMaxHeaderBytes)) {
        result.max_header_bytes = static_cast<std::size_t>(*bytes);
    }
    if (auto bytes = limits->integer("max_body_bytes", 1, kMaxBodyBytes)) {
        result.max_body_bytes = static_cast<std::size_t>(*bytes);
    }
    if (auto ms = limits->integer("header_timeout_ms", 1, kMaxTimeoutMs)) {
        result.header_timeout = std::chrono::milliseconds(*ms);
    }
    if (auto ms = limits->integer("idle_timeout_ms", 1, kMaxTimeoutMs)) {
        result.idle_timeout = std::chrono::milliseconds(*ms);
    }
    if (auto bytes = limits->integer("max_rewrite_bytes", 0, kMaxRewriteBytes)) {
        result.max_rewrite_bytes = static_cast<std::size_t>(*bytes);
    }
    limits->reject_unknown_keys();
}

}  // namespace giosg::config_detail
