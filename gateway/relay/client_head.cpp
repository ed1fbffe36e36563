#include "relay/client_head.hpp"

#include "common/format.hpp"
#include "common/reason.hpp"
#include "http/response.hpp"

namespace giosg::relay {

Framing choose_framing(const http::ResponseHead& response, bool complete, int client_version_minor) noexcept {
    if (response.body == http::BodyKind::none) return Framing::none;
    if (complete || response.body == http::BodyKind::content_length) return Framing::content_length;
    return client_version_minor >= 1 ? Framing::chunked : Framing::until_close;
}

void append_client_fields(std::string& out, const http::ResponseHead& response, std::string_view request_id,
                          LinkContext& links, std::string* held_validators) {
    http::append_status_line(out, response.status,
                             response.reason_phrase.empty() ? status_phrase(response.status) : response.reason_phrase);
    for (const auto& field : response.fields) {
        const auto name = field.name;
        if (http::is_hop_by_hop(name) || response.connection_lists(name) || http::iequals(name, "X-Request-Id"))
            continue;
        if (http::iequals(name, "Content-Length") &&
            (response.body != http::BodyKind::none || response.status == 204))
            continue;
        if (held_validators != nullptr && (http::iequals(name, "ETag") || http::iequals(name, "Content-MD5"))) {
            http::append_field(*held_validators, name, field.value);
            continue;
        }
        if (http::iequals(name, "Location") || http::iequals(name, "Content-Location")) {
            if (const auto rewritten = links.rewrite(field.value)) {
                http::append_field(out, name, *rewritten);
                continue;
            }
        }
        http::append_field(out, name, field.value);
    }
    http::append_field(out, "X-Request-Id", request_id);
}

void append_client_framing(std::string& out, Framing framing, std::uint64_t length, bool close,
                           int client_version_minor) {
    if (framing == Framing::content_length) {
        out.append("Content-Length: ");
        append_uint(out, length);
        out.append("\r\n");
    } else if (framing == Framing::chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    }
    http::append_connection(out, close || framing == Framing::until_close, client_version_minor);
    out.append("\r\n");
}

}  // namespace giosg::relay
