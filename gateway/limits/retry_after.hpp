#pragma once
// Retry-After as giosg sends it on a 429 (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
// Pure: the current time is a parameter.
#include <chrono>
#include <optional>
#include <string_view>

namespace giosg::limits {

/// How long from `now` the upstream asked to wait; nullopt for a value that is neither form
/// (then no hold is set). A date in the past is a wait of zero.
std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value,
                                                          std::chrono::system_clock::time_point now) noexcept;

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the HTTP-date form senders must use
/// (RFC 9110 §5.6.7), or the obsolete RFC 850 and asctime forms recipients must still accept.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept;

}  // namespace giosg::limits
