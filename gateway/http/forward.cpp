#include "http/forward.hpp"

#include "http/response.hpp"

namespace giosg::http {
namespace {

bool replaced_or_hop_by_hop(const RequestHead& head, std::string_view name) noexcept {
    return iequals(name, "Host") || iequals(name, "Authorization") || iequals(name, "X-Request-Id") ||
           iequals(name, "Content-Length") || iequals(name, "Expect") || is_hop_by_hop(name) ||
           head.connection_lists(name);
}

}  // namespace

bool has_underscore(std::string_view name) noexcept { return name.find('_') != std::string_view::npos; }

bool carries_method_override(const RequestHead& head) noexcept {
    for (const auto& field : head.fields) {
        if (iequals(field.name, "X-HTTP-Method-Override") || iequals(field.name, "X-HTTP-Method") ||
            iequals(field.name, "X-Method-Override"))
            return true;
    }
    return false;
}

bool is_client_forwarding_field(std::string_view name) noexcept {
    // X-Forwarded itself too: any header of that family may be read as the client's address.
    constexpr std::string_view kForwardedPrefix = "X-Forwarded";
    return iequals(name, "Forwarded") || iequals(name, "X-Real-IP") ||
           (name.size() >= kForwardedPrefix.size() && iequals(name.substr(0, kForwardedPrefix.size()), kForwardedPrefix));
}

std::size_t append_upstream_head(std::string& out, const RequestHead& head, const TargetView& target,
                                 std::string_view host, std::string_view authorization_line,
                                 std::string_view request_id) {
    out.append(head.method).push_back(' ');
    append_forward_target(target, out);
    out.append(" HTTP/1.1\r\n");
    append_field(out, "Host", host);
    out.append(authorization_line);
    append_field(out, "X-Request-Id", request_id);
    std::size_t underscored = 0;
    for (const auto& field : head.fields) {
        if (has_underscore(field.name)) {
            ++underscored;
            continue;
        }
        if (!replaced_or_hop_by_hop(head, field.name) && !is_client_forwarding_field(field.name))
            append_field(out, field.name, field.value);
    }
    return underscored;
}

}  // namespace giosg::http
