#include "common/reason.hpp"

namespace giosg {

namespace {
struct ReasonInfo {
    std::string_view code;
    int status;
    std::string_view detail;
};

// Indexed by Reason; keep in enum order (static_assert below guards the length).
constexpr ReasonInfo kReasons[] = {
    {"ok", 200, ""},
    {"bad_request", 400, "Malformed request."},
    {"headers_too_large", 431, "Request header fields too large."},
    {"payload_too_large", 413, "Request body too large."},
    {"request_timeout", 408, "Request not received in time."},
    {"not_authenticated", 401, "Authentication credentials were not provided."},
    {"unknown_endpoint", 404, "Not found."},
    {"method_not_allowed", 405, "Method not allowed."},
    {"organization_forbidden", 403, "You do not have permission to access this organization."},
    {"insufficient_scope", 403, "You do not have permission to perform this action."},
    {"upstream_unavailable", 502, "The giosg API could not be reached or answered invalidly."},
    {"upstream_timeout", 504, "The giosg API did not answer in time."},
    {"audit_unavailable", 503, "The audit trail cannot be written; no request is forwarded until it can."},
    {"rate_limited", 429, "Request was throttled."},
    {"upstream_rate_limited", 429, "The giosg API asked this credential to slow down; request was not forwarded."},
    {"rate_store_unavailable", 503, "The rate limit store cannot be reached; no request is forwarded until it can."},
    {"client_closed", 499, "Client closed the connection."},
};
static_assert(std::size(kReasons) == kReasonCount);
}  // namespace

std::string_view reason_code(Reason r) noexcept { return kReasons[static_cast<int>(r)].code; }
int reason_status(Reason r) noexcept { return kReasons[static_cast<int>(r)].status; }
std::string_view reason_detail(Reason r) noexcept { return kReasons[static_cast<int>(r)].detail; }

// Not boost::beast::http::obsolete_reason, although beast/http/status.hpp would not pull Asio
// into common/: its table predates RFC 9110 (413 is "Payload Too Large" there, "Content Too
// Large" here) and it answers "<unknown-status>" for codes it does not list, which would then
// appear on the wire for an upstream status sent without a phrase. The gateway only writes the
// codes below itself, so a short table of RFC 9110 names is the simpler single source.
std::string_view status_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 499: return "Client Closed Request";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Unknown";
    }
}

}  // namespace giosg
