#include "limits/retry_after.hpp"

#include <array>
#include <cstdint>

namespace giosg::limits {
namespace {

using std::chrono::days;
using std::chrono::seconds;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// A wait longer than this is no wait anyone meant; the hold is capped far lower anyway.
constexpr std::uint64_t kMaxDelaySeconds = 10ULL * 365 * 24 * 3600;

/// Reads exactly `width` digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) noexcept {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::optional<unsigned> month_at(std::string_view text, std::size_t pos) noexcept {
    if (pos + 3 > text.size()) return std::nullopt;
    for (unsigned i = 0; i < kMonths.size(); ++i)
        if (text.substr(pos, 3) == kMonths[i]) return i + 1;
    return std::nullopt;
}

/// "HH:MM:SS" at `pos`.
std::optional<seconds> time_at(std::string_view text, std::size_t pos) noexcept {
    const auto h = digits(text, pos, 2);
    const auto m = digits(text, pos + 3, 2);
    const auto s = digits(text, pos + 6, 2);
    if (!h || !m || !s || text[pos + 2] != ':' || text[pos + 5] != ':' || *h > 23 || *m > 59 || *s > 60)
        return std::nullopt;
    return seconds(*h * 3600 + *m * 60 + *s);
}

std::optional<std::chrono::system_clock::time_point> make_time(int year, unsigned month, int day, seconds time) noexcept {
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;
    return std::chrono::sys_days(date) + time;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept {
    const auto comma = text.find(',');
    if (comma == 3 && text.size() == 29) {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        const auto day = digits(text, 5, 2);
        const auto month = month_at(text, 8);
        const auto year = digits(text, 12, 4);
        const auto time = time_at(text, 17);
        if (!day || !month || !year || !time || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
            text[16] != ' ' || text.substr(25) != " GMT")
            return std::nullopt;
        return make_time(*year, *month, *day, *time);
    }
    if (comma != std::string_view::npos && comma >= 6 && text.size() == comma + 24) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        const std::size_t p = comma + 2;
        const auto day = digits(text, p, 2);
        const auto month = month_at(text, p + 3);
        const auto yy = digits(text, p + 7, 2);
        const auto time = time_at(text, p + 10);
        if (!day || !month || !yy || !time || text[comma + 1] != ' ' || text[p + 2] != '-' || text[p + 6] != '-' ||
            text[p + 9] != ' ' || text.substr(p + 18) != " GMT")
            return std::nullopt;
        // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
        return make_time(*yy < 70 ? 2000 + *yy : 1900 + *yy, *month, *day, *time);
    }
    if (comma == std::string_view::npos && text.size() == 24) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        const auto month = month_at(text, 4);
        const auto day = text[8] == ' ' ? digits(text, 9, 1) : digits(text, 8, 2);
        const auto time = time_at(text, 11);
        const auto year = digits(text, 20, 4);
        if (!day || !month || !year || !time || text[3] != ' ' || text[7] != ' ' || text[10] != ' ' || text[19] != ' ')
            return std::nullopt;
        return make_time(*year, *month, *day, *time);
    }
    return std::nullopt;
}

std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value,
                                                          std::chrono::system_clock::time_point now) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (value.front() >= '0' && value.front() <= '9') {
        std::uint64_t delay = 0;
        for (const char c : value) {
            if (c < '0' || c > '9') return std::nullopt;
            delay = delay * 10 + static_cast<std::uint64_t>(c - '0');
            if (delay > kMaxDelaySeconds) delay = kMaxDelaySeconds;  // and no overflow on long inputs
        }
        return seconds(delay);
    }
    const auto date = parse_http_date(value);
    if (!date) return std::nullopt;
    if (*date <= now) return std::chrono::nanoseconds(0);
    return std::min<std::chrono::nanoseconds>(*date - now, seconds(kMaxDelaySeconds));
}

}  // namespace giosg::limits
