#pragma once
// The properties of docs/reference.md §3 step 1 (target rules) and step 7 (token removal), written
// independently of gateway/http/target.cpp. Used by target_fuzz on raw bytes and by request_fuzz
// on the targets that survive the head parser.
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/target.hpp"

namespace giosg::fuzz {

inline int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Percent-decodes text whose every '%' starts a valid escape (checked by the caller).
inline std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string decoded;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            decoded += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
            i += 2;
        } else {
            decoded += plus_is_space && text[i] == '+' ? ' ' : text[i];
        }
    }
    return decoded;
}

/// What append_forward_target must produce: the path, then the '&'-separated parameters whose
/// decoded name is not "token", joined as sent; no '?' when nothing is left.
inline std::string expected_forward_target(const http::TargetView& target) {
    std::string query;
    bool first = true;
    for (std::string_view parameter : split(target.query, '&')) {
        const std::string_view name = parameter.substr(0, parameter.find('='));
        if (percent_decode(name, true) == "token") continue;
        if (!first) query += '&';
        first = false;
        query += parameter;
    }
    std::string forward(target.path);
    if (!query.empty()) forward += '?' + query;
    return forward;
}

/// Runs parse_target (and, when it accepts, append_forward_target) on `raw` and checks every
/// promise of docs/reference.md §3 about what may reach the matcher and the upstream.
inline void check_target(std::string_view raw) {
    const http::TargetResult result = http::parse_target(raw);
    if (!result.ok) {
        FUZZ_CHECK(!result.detail.empty());
        return;
    }
    const std::string_view path = result.target.path;
    const std::string_view query = result.target.query;

    // The gateway rejects and never rewrites: path and query are the sent bytes, split at '?'.
    FUZZ_CHECK(path.data() == raw.data());
    FUZZ_CHECK(std::string(path) + (result.target.has_query ? "?" : "") + std::string(query) == raw);
    FUZZ_CHECK(!result.target.has_query ? query.empty() : path.size() < raw.size());

    FUZZ_CHECK(!path.empty() && path.front() == '/');
    FUZZ_CHECK(path.find('?') == std::string_view::npos);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const auto byte = static_cast<unsigned char>(raw[i]);
        FUZZ_CHECK(byte > 0x20 && byte < 0x7F);  // no CTL, SP, DEL or non-ASCII
        FUZZ_CHECK(byte != '\\' && byte != '#');
        if (byte == '%') {
            FUZZ_CHECK(i + 2 < raw.size() && hex_digit(raw[i + 1]) >= 0 && hex_digit(raw[i + 2]) >= 0);
        }
    }
    for (std::size_t i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 3)) {
        const auto decoded = static_cast<unsigned char>(percent_decode(path.substr(i, 3), false)[0]);
        FUZZ_CHECK(decoded != '/' && decoded != '\\');
        FUZZ_CHECK(decoded >= 0x20 && decoded != 0x7F);
    }
    // Only the last segment may be empty ("/a/" and "/" are fine, "//" anywhere is not), and no
    // segment reads as "." or ".." once decoded (decoding every escape is stricter than only
    // %2e, and equivalent here: any other escape decodes to something that is not a dot).
    FUZZ_CHECK(path.find("//") == std::string_view::npos);
    const std::vector<std::string_view> segments = split(path.substr(1), '/');
    for (std::size_t i = 0; i < segments.size(); ++i) {
        FUZZ_CHECK(!segments[i].empty() || i + 1 == segments.size());
        const std::string decoded = percent_decode(segments[i], false);
        FUZZ_CHECK(decoded != "." && decoded != "..");
    }

    std::string forward = "prefix:";  // append_forward_target appends; it must not touch this
    http::append_forward_target(result.target, forward);
    FUZZ_CHECK(forward.starts_with("prefix:"));
    forward.erase(0, 7);
    FUZZ_CHECK(forward.starts_with(path));
    FUZZ_CHECK(forward == expected_forward_target(result.target));

    // What is forwarded is itself a valid target with the same path, and forwarding is a fixed
    // point (no token parameter is left to remove).
    const http::TargetResult again = http::parse_target(forward);
    FUZZ_CHECK(again.ok);
    FUZZ_CHECK(again.target.path == path);
    for (std::string_view parameter : split(again.target.query, '&')) {
        FUZZ_CHECK(percent_decode(parameter.substr(0, parameter.find('=')), true) != "token");
    }
    std::string forward_again;
    http::append_forward_target(again.target, forward_again);
    FUZZ_CHECK(forward_again == forward);
}

}  // namespace giosg::fuzz
