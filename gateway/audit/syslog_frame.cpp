#include "audit/syslog_frame.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>

#include "audit/record.hpp"

namespace giosg {

namespace {

constexpr std::size_t kTimestampBytes = 32;      // "2026-11-27T23:59:59.123Z" and room to spare
constexpr std::size_t kLengthPrefixBytes = 21;   // 20 digits + SP

/// RFC 5424 §6: HOSTNAME and APP-NAME are printable US-ASCII without spaces, bounded in length;
/// anything else becomes the NILVALUE.
std::string header_field(std::string_view value, std::size_t max_length) {
    value = value.substr(0, max_length);
    const bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < 127; });
    return value.empty() || !printable ? std::string("-") : std::string(value);
}

std::string local_host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) return "-";
    return header_field(name.data(), 255);
}

}  // namespace

SyslogFramer::SyslogFramer(int facility, std::string_view app_name)
    // RFC 5424 §6.2.1: PRI = facility * 8 + severity; every audit line is informational (6).
    : header_start_("<" + std::to_string(facility * 8 + 6) + ">1 "),
      header_rest_(" " + local_host_name() + " " + header_field(app_name, 48) + " " + std::to_string(::getpid()) +
                   " audit - ") {}

std::string SyslogFramer::frame(std::string_view line) const {
    // One allocation: the header, then the line, then the RFC 6587 §3.4.1 length in front
    // (MSG-LEN SP SYSLOG-MSG) within the reserved space.
    std::string frame;
    frame.reserve(kLengthPrefixBytes + header_start_.size() + kTimestampBytes + header_rest_.size() + line.size());
    frame += header_start_;
    append_rfc3339_ms(std::chrono::system_clock::now(), frame);
    frame += header_rest_;
    frame += line;
    std::array<char, kLengthPrefixBytes> prefix{};
    auto [end, ec] = std::to_chars(prefix.data(), prefix.data() + prefix.size() - 1, frame.size());
    *end++ = ' ';
    frame.insert(0, prefix.data(), static_cast<std::size_t>(end - prefix.data()));
    return frame;
}

}  // namespace giosg
