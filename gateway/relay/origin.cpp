#include "relay/origin.hpp"

#include <charconv>

#include "common/ascii.hpp"

namespace giosg::relay {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

// RFC 3986 reg-name (which includes IPv4): unreserved, pct-encoded and sub-delims; not empty,
// since http(s) has no empty host. `unreserved_only` narrows it to what DNS names and IPv4
// addresses use, for a Host header that is echoed into links: sub-delims and escapes there
// serve no client and only widen what a forged Host can put into a link.
bool is_reg_name(std::string_view host, bool unreserved_only) {
    if (host.empty()) return false;
    for (std::size_t i = 0; i < host.size(); ++i) {
        char c = host[i];
        if (is_alpha(c) || is_digit(c)) continue;
        if (unreserved_only) {
            if (c == '-' || c == '.' || c == '_' || c == '~') continue;
            return false;
        }
        switch (c) {
            case '-': case '.': case '_': case '~':
            case '!': case '$': case '&': case '\'': case '(': case ')':
            case '*': case '+': case ',': case ';': case '=':
                continue;
            case '%':
                if (i + 2 < host.size() && is_hex(host[i + 1]) && is_hex(host[i + 2])) {
                    i += 2;
                    continue;
                }
                return false;
            default:
                return false;
        }
    }
    return true;
}

// "[...]" holding an IPv6 address: hex digits, ':' and '.' (an embedded IPv4), at least one ':'.
// Not a full IPv6 grammar: the host only has to be safe to echo back, not resolvable.
bool is_ipv6_literal(std::string_view host) {
    if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
    bool colon = false;
    for (char c : host.substr(1, host.size() - 2)) {
        if (c == ':') colon = true;
        else if (!is_hex(c) && c != '.') return false;
    }
    return colon;
}

bool is_valid_host(std::string_view host, bool unreserved_only) {
    return host.front() == '[' ? is_ipv6_literal(host) : is_reg_name(host, unreserved_only);
}

struct HostPort {
    std::string_view host;
    std::optional<std::uint16_t> port;
    bool empty_port = false;  // "host:" with nothing after the colon
};

// Splits and validates "host[:port]"; the port is 0-65535 in at most 5 digits.
std::optional<HostPort> parse_host_port(std::string_view authority, bool unreserved_only) {
    if (authority.empty()) return std::nullopt;
    HostPort parsed;
    std::string_view port_text;
    bool has_port = false;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        parsed.host = authority.substr(0, close + 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.find(':');
        parsed.host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
    }
    if (parsed.host.empty() || !is_valid_host(parsed.host, unreserved_only)) return std::nullopt;
    if (has_port) {
        if (port_text.empty()) {
            parsed.empty_port = true;
        } else {
            if (port_text.size() > 5) return std::nullopt;
            unsigned value = 0;
            auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
            if (ec != std::errc{} || end != port_text.data() + port_text.size() || value > 65535) return std::nullopt;
            for (char c : port_text) {
                if (!is_digit(c)) return std::nullopt;  // from_chars would not take '+', but be explicit
            }
            parsed.port = static_cast<std::uint16_t>(value);
        }
    }
    return parsed;
}

bool is_http_scheme(std::string_view scheme) { return ascii_iequals(scheme, "http") || ascii_iequals(scheme, "https"); }

}  // namespace

std::optional<std::uint16_t> Origin::effective_port() const noexcept {
    if (port) return port;
    if (scheme == "http") return 80;
    if (scheme == "https") return 443;
    return std::nullopt;
}

std::optional<SplitUrl> split_absolute_url(std::string_view url) {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
    std::size_t i = 0;
    if (url.empty() || !is_alpha(url[0])) return std::nullopt;
    while (i < url.size() && (is_alpha(url[i]) || is_digit(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')) ++i;
    if (url.substr(i, 3) != "://") return std::nullopt;
    std::string_view scheme = url.substr(0, i);
    std::size_t authority_begin = i + 3;
    // The authority ends at '/', '?' or '#'; also at '\', which WHATWG URL parsers (browsers,
    // most HTTP clients) read as '/' in http(s) URLs, so that the host we compare is the host a
    // client would connect to.
    std::size_t authority_end = url.find_first_of("/?#\\", authority_begin);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
    // Userinfo ends at the LAST '@', as clients split it: "https://a@b@host/" goes to host.
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);

    auto host_port = parse_host_port(authority, false);
    if (!host_port) return std::nullopt;
    SplitUrl split;
    split.origin.scheme = lower(scheme);
    split.origin.host = lower(host_port->host);
    split.origin.port = host_port->port;
    split.rest = url.substr(authority_end);
    return split;
}

std::optional<Origin> parse_origin(std::string_view url) {
    auto split = split_absolute_url(url);
    if (!split) return std::nullopt;
    return std::move(split->origin);
}

bool same_origin(const Origin& a, const Origin& b) noexcept {
    // Origin fields are lower-cased when parsed; compare case-insensitively anyway so that a
    // hand-built Origin behaves the same.
    return ascii_iequals(a.scheme, b.scheme) && ascii_iequals(a.host, b.host) && a.effective_port() == b.effective_port();
}

bool is_valid_host_port(std::string_view authority) noexcept {
    auto parsed = parse_host_port(authority, true);
    return parsed && !parsed->empty_port;
}

std::optional<PublicOrigin> PublicOrigin::from_public_url(std::string_view public_url) {
    auto split = split_absolute_url(public_url);
    if (!split || !is_http_scheme(split->origin.scheme)) return std::nullopt;
    if (!split->rest.empty() && split->rest != "/") return std::nullopt;
    std::string_view prefix = public_url.substr(0, public_url.size() - split->rest.size());
    if (prefix.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
    if (prefix.back() == ':') return std::nullopt;                         // "https://gw:" is sloppy config
    return PublicOrigin(std::string(prefix));
}

PublicOrigin PublicOrigin::from_host(std::string_view listener_scheme, std::optional<std::string_view> host) {
    if (!host || !is_http_scheme(listener_scheme) || !is_valid_host_port(*host)) return relative();
    std::string prefix = lower(listener_scheme);
    prefix += "://";
    prefix += *host;
    return PublicOrigin(std::move(prefix));
}

PublicOrigin choose_public_origin(const std::optional<PublicOrigin>& public_url, std::string_view listener_scheme,
                                  std::optional<std::string_view> host) {
    if (public_url) return *public_url;
    return PublicOrigin::from_host(listener_scheme, host);
}

}  // namespace giosg::relay
