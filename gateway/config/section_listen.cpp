// "listen", "admin_listen" and "workers": where the gateway accepts connections.
#include "config/address.hpp"
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMaxWorkers = 1024;

}  // namespace

std::optional<HostPort> host_port(const ObjectReader& reader, std::string_view key, std::string_view text) {
    std::string error;
    std::optional<HostPort> result = parse_host_port(text, error);
    if (!result) reader.error(key, std::move(error));
    return result;
}

void read_listen(ObjectReader& top, Config& config) {
    if (auto text = top.string("listen", Need::required)) {
        if (auto listen = host_port(top, "listen", *text)) config.listen = std::move(*listen);
    }
    if (auto text = top.string("admin_listen", Need::optional, true)) {
        config.admin_listen = host_port(top, "admin_listen", *text);
        // The workers listen with SO_REUSEPORT; the admin listener on the same address would
        // fail to bind at start. The workers' "::" is IPv6 only; the admin's "::" takes IPv4
        // too. Names are taken for IPv4; a clash they hide still fails at bind, naming the key.
        const auto& admin = config.admin_listen;
        const auto& listen = config.listen;
        const auto ipv6 = [](const std::string& host) { return host.find(':') != std::string::npos; };
        if (admin && admin->port != 0 && admin->port == listen.port &&
            (admin->host == listen.host || admin->host == "::" ||
             (listen.host == "0.0.0.0" && !ipv6(admin->host)) ||
             (admin->host == "0.0.0.0" && !ipv6(listen.host)) || (listen.host == "::" && ipv6(admin->host))))
            top.error("admin_listen", "must not be the address of /listen");
    }
    if (auto workers = top.integer("workers", 0, kMaxWorkers)) {
        config.workers = static_cast<unsigned>(*workers);
    }
}

}  // namespace giosg::config_detail
