#pragma once
// Origins for docs/reference.md §6: which links point at the upstream, and what the client's view of the
// gateway is. Pure string work (no Asio), so that the rules are unit-tested on their own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace giosg::relay {

/// scheme, host and port of an absolute URL. Scheme and host are kept lower-cased (both compare
/// case-insensitively); an IPv6 host keeps its brackets.
struct Origin {
    std::string scheme;
    std::string host;
    std::optional<std::uint16_t> port;  // as written; none when absent (or written empty, "h:")

    /// The port in effect: the written one, else 80 for http, 443 for https, else none.
    std::optional<std::uint16_t> effective_port() const noexcept;
};

/// An absolute URL cut at the end of its authority: `origin` and what follows it (path, query,
/// fragment; possibly empty), the latter a view into the input.
struct SplitUrl {
    Origin origin;
    std::string_view rest;
};

/// Parses "scheme://[userinfo@]host[:port]" at the start of `url`. The userinfo is not part of
/// the origin (and is dropped by a rewrite). Refuses (nullopt) anything that is not an absolute
/// URL with an authority, a host that is not a valid reg-name, IPv4 or [IPv6] literal, and a port
/// that is not 0-65535 digits.
std::optional<SplitUrl> split_absolute_url(std::string_view url);

/// The origin of an absolute URL (see split_absolute_url).
std::optional<Origin> parse_origin(std::string_view url);

/// §6 comparison: scheme and host case-insensitive, a default port equal to none; the same host
/// on another port is another origin.
bool same_origin(const Origin& a, const Origin& b) noexcept;

/// Whether `authority` is a valid `host[:port]` (a name or IPv4 address of letters, digits and
/// "-._~", or an [IPv6] literal; port 1-5 digits up to 65535, not empty), as a Host header must
/// be before links are built from it. Stricter than RFC 3986's reg-name on purpose: no
/// sub-delims or %-escapes get from a Host header into a link.
bool is_valid_host_port(std::string_view authority) noexcept;

/// The origin clients reach the gateway by, i.e. what upstream links are rewritten to: either an
/// absolute prefix ("https://gw.example", "http://10.0.0.1:8080") or, when none is known,
/// nothing: links become relative (path and query only).
class PublicOrigin {
public:
    /// Links become relative.
    static PublicOrigin relative() { return PublicOrigin{}; }

    /// From the configured `public_url`: "scheme://host[:port]" with at most a trailing "/"; no
    /// userinfo, path, query or fragment. nullopt when it is not that shape.
    static std::optional<PublicOrigin> from_public_url(std::string_view public_url);

    /// From the listener's scheme ("http"/"https") and the request's Host header as sent (case
    /// kept); relative() when the Host is absent or not a valid host[:port].
    static PublicOrigin from_host(std::string_view listener_scheme, std::optional<std::string_view> host);

    bool is_relative() const noexcept { return prefix_.empty(); }
    /// "scheme://host[:port]" without a trailing slash; empty when relative.
    const std::string& prefix() const noexcept { return prefix_; }

private:
    PublicOrigin() = default;
    explicit PublicOrigin(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string prefix_;
};

/// public_url when configured, else the listener scheme and Host (§6 default).
PublicOrigin choose_public_origin(const std::optional<PublicOrigin>& public_url, std::string_view listener_scheme,
                                  std::optional<std::string_view> host);

}  // namespace giosg::relay
