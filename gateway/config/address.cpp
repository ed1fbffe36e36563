#include "config/address.hpp"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>

#include <algorithm>
#include <cstdint>

#include "common/ascii.hpp"

namespace giosg {
namespace {

bool is_dns_name(std::string_view host) noexcept {
    if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; });
}

/// All-digit dotted names must be valid IPv4 addresses ("999.1.1.1" is a typo, not a host name).
bool looks_like_ipv4(std::string_view host) noexcept {
    return std::all_of(host.begin(), host.end(), [](char c) { return is_ascii_digit(c) || c == '.'; });
}

/// Decimal port "0".."65535" (no sign, no spaces, at most 5 digits).
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (!is_ascii_digit(c)) return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<HostPort> config_detail::parse_host_port(std::string_view text, std::string& error) {
    std::string_view host;
    std::string_view port;
    bool ipv6 = false;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "must be \"host:port\" (IPv6 as \"[::1]:8080\")";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        ipv6 = true;
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = "must be \"host:port\" (IPv6 as \"[::1]:8080\")";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "an IPv6 address must be in brackets, as \"[::1]:8080\"";
            return std::nullopt;
        }
    }
    if (host.empty()) {
        error = "missing host (use 0.0.0.0 or [::] for every interface)";
        return std::nullopt;
    }
    const boost::core::string_view host_view(host.data(), host.size());
    if (ipv6) {
        if (!boost::urls::parse_ipv6_address(host_view)) {
            error = "invalid IPv6 address";
            return std::nullopt;
        }
    } else if (looks_like_ipv4(host)) {
        if (!boost::urls::parse_ipv4_address(host_view)) {
            error = "invalid IPv4 address";
            return std::nullopt;
        }
    } else if (!is_dns_name(host)) {
        error = "invalid host name";
        return std::nullopt;
    }
    const std::optional<std::uint16_t> port_number = parse_port(port);
    if (!port_number) {
        error = "port must be a number from 0 to 65535";
        return std::nullopt;
    }
    return HostPort{std::string(host), *port_number};
}

std::optional<UpstreamUrl> parse_upstream_url(std::string_view url, std::string& error) {
    // The URL itself is never echoed: user info, if someone put a password there, must not
    // reach a log.
    constexpr std::string_view kShape = "must be http:// or https:// followed by host[:port]";
    const auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
    if (!parsed) {
        error = kShape;
        return std::nullopt;
    }
    const boost::urls::url_view& uri = *parsed;
    UpstreamUrl result;
    switch (uri.scheme_id()) {
        case boost::urls::scheme::http: result.tls = false; break;
        case boost::urls::scheme::https: result.tls = true; break;
        default:
            error = kShape;
            return std::nullopt;
    }
    if (!uri.has_authority() || uri.encoded_host().empty()) {
        error = "missing host";
        return std::nullopt;
    }
    if (uri.has_userinfo()) {
        error = "must not contain user info (tokens belong in \"credentials\")";
        return std::nullopt;
    }
    std::string bracketed_host;
    switch (uri.host_type()) {
        case boost::urls::host_type::ipv4:
            result.host = uri.host_address();
            bracketed_host = result.host;
            break;
        case boost::urls::host_type::ipv6:
            result.host = uri.host_address();
            bracketed_host = "[" + result.host + "]";
            break;
        case boost::urls::host_type::name: {
            const std::string_view host(uri.encoded_host().data(), uri.encoded_host().size());
            if (!is_dns_name(host) || looks_like_ipv4(host)) {
                error = "invalid host";
                return std::nullopt;
            }
            // DNS names are case-insensitive; SNI wants one form.
            result.host = ascii_lower(host);
            bracketed_host = result.host;
            break;
        }
        default:
            error = "invalid host";
            return std::nullopt;
    }
    const std::uint16_t default_port = result.tls ? 443 : 80;
    result.port = default_port;
    if (uri.has_port()) {
        const std::string_view port_text(uri.port().data(), uri.port().size());
        const std::optional<std::uint16_t> port = parse_port(port_text);
        if (!port || *port == 0) {
            error = "port must be a number from 1 to 65535";
            return std::nullopt;
        }
        result.port = *port;
    }
    if (!(uri.encoded_path().empty() || uri.encoded_path() == "/") || uri.has_query() || uri.has_fragment()) {
        error = "must not have a path, query or fragment (only an optional trailing \"/\")";
        return std::nullopt;
    }
    result.authority = bracketed_host;
    if (result.port != default_port) result.authority += ":" + std::to_string(result.port);
    result.origin = std::string(result.tls ? "https://" : "http://") + result.authority;
    return result;
}

}  // namespace giosg
