#pragma once
// The one maker of gateway-made error responses (docs/reference.md §3): the status and code come
// from the Reason table, the body is JSON in giosg's (DRF) style, and the head carries the fields
// each refusal needs (WWW-Authenticate for 401, Allow for 405). No Asio.
#include <string>
#include <string_view>

#include "common/reason.hpp"

namespace giosg::http {

struct ErrorReply {
    Reason reason = Reason::bad_request;
    std::string_view detail;      // human text; empty: the reason's default
    std::string_view method;      // 405 names the refused method in its detail
    std::string_view request_id;
    std::string_view allow;       // 405: the methods the endpoint allows
    std::string_view extra_fields;  // complete "Name: value\r\n" lines (429: Retry-After, RateLimit)
    bool close = false;           // the connection ends after this response
    int version_minor = 1;        // of the client's request
};

/// Writes the whole head (blank line included) to `head` and the JSON body to `body`
/// (both cleared first): `{"detail": …, "code": …, "request_id": …}`.
void make_error_response(const ErrorReply& reply, std::string& head, std::string& body);

}  // namespace giosg::http
