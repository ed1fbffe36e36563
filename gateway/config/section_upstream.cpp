// "upstream": the giosg API the gateway forwards to.
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMaxIdleConnections = 65536;  // per worker: more would exhaust file descriptors

}  // namespace

void read_upstream(ObjectReader& top, Config& config) {
    auto upstream = top.object("upstream", Need::required);
    if (!upstream) return;
    if (auto text = upstream->string("url", Need::required)) {
        std::string error;
        if (auto url = parse_upstream_url(*text, error)) {
            config.upstream.url = std::move(*url);
        } else {
            upstream->error("url", std::move(error));
        }
    }
    config.upstream.ca_file = read_path(*upstream, "ca_file", config.base_dir, Need::optional, true);
    if (auto ms = upstream->integer("connect_timeout_ms", 1, kMaxTimeoutMs)) {
        config.upstream.connect_timeout = std::chrono::milliseconds(*ms);
    }
    if (auto ms = upstream->integer("timeout_ms", 1, kMaxTimeoutMs)) {
        config.upstream.timeout = std::chrono::milliseconds(*ms);
    }
    if (auto n = upstream->integer("max_idle_connections", 0, kMaxIdleConnections)) {
        config.upstream.max_idle_connections = static_cast<std::size_t>(*n);
    }
    upstream->reject_unknown_keys();
}

}  // namespace giosg::config_detail
