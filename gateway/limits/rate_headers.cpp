#include "limits/rate_headers.hpp"

#include "common/format.hpp"

namespace giosg::limits {
namespace {

std::string_view policy_name(LimitKind kind) noexcept {
    switch (kind) {
        case LimitKind::client_rate: return "client";
        case LimitKind::client_in_flight: return "client_in_flight";
        case LimitKind::credential_rate: return "credential";
        case LimitKind::upstream_hold:
        case LimitKind::none: break;
    }
    return {};
}

void append_int(std::string& out, std::int64_t value) { append_uint(out, static_cast<std::uint64_t>(value < 0 ? 0 : value)); }

}  // namespace

void append_limit_fields(std::string& out, const LimitVerdict& verdict) {
    if (verdict.admitted()) return;
    out.append("Retry-After: ");
    append_int(out, verdict.retry_after_s);
    out.append("\r\n");
    // An upstream hold is giosg's limit, not one of ours: it has no policy to describe.
    const std::string_view name = policy_name(verdict.limit);
    if (name.empty()) return;
    out.append("RateLimit-Policy: \"").append(name).append("\";q=");
    append_int(out, verdict.quota);
    out.append(";w=");
    append_int(out, verdict.window_s);
    out.append("\r\nRateLimit: \"").append(name).append("\";r=");
    append_int(out, verdict.remaining);
    out.append(";t=");
    append_int(out, verdict.reset_s);
    out.append("\r\n");
}

}  // namespace giosg::limits
