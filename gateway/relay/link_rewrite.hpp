#pragma once
// The one rewrite rule of docs/reference.md §6, for a Location or Content-Location header value and for a
// decoded `next`/`previous` string alike.
#include <optional>
#include <string>
#include <string_view>

#include "relay/origin.hpp"

namespace giosg::relay {

/// When `value` is an absolute URL on `upstream`'s origin, the same URL on `public_origin`: the
/// scheme://[userinfo@]host[:port] part replaced, everything after it (path, query, fragment)
/// kept byte for byte; with a relative public origin, only that path/query/fragment, with "/"
/// in front when the path is empty, and "/." in front when it begins with "//" or "/\", so that
/// it cannot be read as a network-path reference to another host.
/// A network-path reference ("//host[:port]/…") naming the upstream's host, with no port or the
/// upstream's port, is rewritten too: a client would resolve it to the upstream host.
/// nullopt (leave the value as it is) for any other value: another origin, the same host on
/// another port, a relative reference, or something that is not a URL.
std::optional<std::string> rewrite_link(std::string_view value, const Origin& upstream,
                                        const PublicOrigin& public_origin);

/// The origins one response's links are judged by: the upstream's, and the public one clients
/// reach the gateway by — the configured public_url, else the listener's scheme and the request's
/// Host — made only when a link needs it, so a response without upstream links costs nothing.
class LinkContext {
public:
    LinkContext(const Origin& upstream, const std::optional<PublicOrigin>& configured,
                std::string_view listener_scheme, std::optional<std::string_view> host) noexcept
        : upstream_(upstream), configured_(configured), listener_scheme_(listener_scheme), host_(host) {}

    [[nodiscard]] const Origin& upstream() const noexcept { return upstream_; }
    const PublicOrigin& public_origin() {
        if (!public_) public_ = choose_public_origin(configured_, listener_scheme_, host_);
        return *public_;
    }
    /// rewrite_link against these origins.
    std::optional<std::string> rewrite(std::string_view link);

private:
    const Origin& upstream_;
    const std::optional<PublicOrigin>& configured_;
    std::string_view listener_scheme_;
    std::optional<std::string_view> host_;
    std::optional<PublicOrigin> public_;
};

}  // namespace giosg::relay
