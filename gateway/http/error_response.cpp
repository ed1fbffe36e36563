#include "http/error_response.hpp"

#include "common/format.hpp"
#include "common/json_escape.hpp"
#include "http/response.hpp"

namespace giosg::http {

void make_error_response(const ErrorReply& reply, std::string& head, std::string& body) {
    body.clear();
    body.append("{\"detail\": \"");
    if (reply.reason == Reason::method_not_allowed) {
        // The method is a token (no quote or backslash) but is escaped anyway.
        body.append("Method \\\"");
        append_json_escaped(reply.method, body);
        body.append("\\\" not allowed.");
    } else {
        append_json_escaped(reply.detail.empty() ? reason_detail(reply.reason) : reply.detail, body);
    }
    body.append("\", \"code\": \"").append(reason_code(reply.reason)).append("\", \"request_id\": \"");
    append_json_escaped(reply.request_id, body);
    body.append("\"}");

    const int status = reason_status(reply.reason);
    head.clear();
    append_status_line(head, status, status_phrase(status));
    head.append("Content-Type: application/json\r\nContent-Length: ");
    append_uint(head, body.size());
    head.append("\r\n");
    append_field(head, "X-Request-Id", reply.request_id);
    if (reply.reason == Reason::not_authenticated) head.append("WWW-Authenticate: Bearer realm=\"giosg-gateway\"\r\n");
    if (reply.reason == Reason::method_not_allowed && !reply.allow.empty()) append_field(head, "Allow", reply.allow);
    head.append(reply.extra_fields);
    append_connection(head, reply.close, reply.version_minor);
    head.append("\r\n");
}

}  // namespace giosg::http
