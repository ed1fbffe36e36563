#pragma once
// Listener addresses ("host:port"); parse_upstream_url() is declared in config.hpp.
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace giosg::config_detail {

/// "host:port" for listeners: IPv4, a DNS name, or "[IPv6]"; port 0 = any free port.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error);

}  // namespace giosg::config_detail
