#include "relay/link_rewrite.hpp"

#include "common/ascii.hpp"

namespace giosg::relay {

namespace {

bool is_slash(char c) { return c == '/' || c == '\\'; }

std::string join(const PublicOrigin& public_origin, std::string_view rest) {
    if (!public_origin.is_relative()) return public_origin.prefix() + std::string(rest);
    // A relative link must stay a path-absolute reference on the gateway.
    if (rest.empty() || rest.front() == '?' || rest.front() == '#') return "/" + std::string(rest);
    if (rest.front() == '\\' || (rest.size() > 1 && is_slash(rest[1]))) return "/." + std::string(rest);
    return std::string(rest);
}

}  // namespace

std::optional<std::string> rewrite_link(std::string_view value, const Origin& upstream,
                                        const PublicOrigin& public_origin) {
    if (value.starts_with("//")) {
        // Resolve the authority as the upstream's scheme would; the client's own scheme may
        // differ, so a written port must be the upstream's and an absent one is accepted.
        const std::string absolute = upstream.scheme + ":" + std::string(value);
        auto split = split_absolute_url(absolute);
        if (!split || !ascii_iequals(split->origin.host, upstream.host)) return std::nullopt;
        if (split->origin.port && split->origin.port != upstream.effective_port()) return std::nullopt;
        return join(public_origin, split->rest);
    }
    auto split = split_absolute_url(value);
    if (!split || !same_origin(split->origin, upstream)) return std::nullopt;
    return join(public_origin, split->rest);
}

std::optional<std::string> LinkContext::rewrite(std::string_view link) {
    // Cheap test first: only an absolute or network-path link can point at the upstream.
    if (link.find("//") == std::string_view::npos) return std::nullopt;
    return rewrite_link(link, upstream_, public_origin());
}

}  // namespace giosg::relay
