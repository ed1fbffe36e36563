#pragma once
// The one rewrite rule of CONTRACT §6, for a Location or Content-Location header value and for a
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

}  // namespace giosg::relay
