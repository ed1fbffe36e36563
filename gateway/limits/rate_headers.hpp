#pragma once
// The fields a limit refusal carries (docs/reference.md, "Rate limits"): Retry-After, and the
// RateLimit-Policy / RateLimit fields of the IETF httpapi draft (-08 and later), whose policy
// item names the limit: "client", "client_in_flight" or "credential".
#include <string>

#include "limits/limit.hpp"

namespace giosg::limits {

/// Appends "Name: value\r\n" lines for a refused `verdict` (nothing for an admitted one).
void append_limit_fields(std::string& out, const LimitVerdict& verdict);

}  // namespace giosg::limits
