#pragma once
// Request-target rules of docs/reference.md §3 step 1. The gateway rejects and never rewrites: the path
// it matches is byte for byte the path it forwards (CVE-2019-9901, CVE-2021-29492 are what
// happens when a proxy and its upstream normalise differently).
#include <string>
#include <string_view>

namespace giosg::http {

struct TargetView {
    std::string_view path;    // starts with '/', never contains '?'
    std::string_view query;   // without the '?'; empty when absent
    bool has_query = false;   // "?" present (possibly with an empty query)
};

struct TargetResult {
    bool ok = false;
    TargetView target;
    std::string_view detail;  // static text for the 400 body when !ok
};

/// Validates an origin-form request target: starts with '/', no '#', no raw CTL/SP/DEL/'\\'/
/// non-ASCII byte anywhere, valid %XX escapes everywhere; in the path additionally no %2F/%5C,
/// no encoded CTL (%00-%1F, %7F), no "." or ".." segment (also %2e-encoded), no empty segment
/// except one trailing slash ("/a/" is fine, "/a//b" is not).
TargetResult parse_target(std::string_view raw) noexcept;

/// Appends the target to forward: the path as sent, then the query without any parameter whose
/// (percent-decoded) name is "token"; a query left empty drops its '?'.
void append_forward_target(const TargetView& target, std::string& out);

/// Appends what the audit record may keep of a raw target that was refused: the part before any
/// '?' or '#', and of a target that is not origin-form ("scheme://…", "host:port", "//…")
/// without the userinfo ("user:password@") of its authority. Never a query, fragment or password.
void append_audit_target(std::string_view raw, std::string& out);

}  // namespace giosg::http
