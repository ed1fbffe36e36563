#include "http/target.hpp"

#include "common/hex.hpp"

namespace giosg::http {

namespace {

TargetResult reject(std::string_view detail) noexcept { return TargetResult{false, {}, detail}; }

bool is_escape_at(std::string_view s, std::size_t i) noexcept {
    return i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0 &&
           hex_digit_value(s[i + 2]) >= 0;
}

char escaped_byte(std::string_view s, std::size_t percent) noexcept {
    return static_cast<char>(hex_digit_value(s[percent + 1]) * 16 +
                             hex_digit_value(s[percent + 2]));
}

/// Byte rules for the whole target: no raw CTL, SP, DEL, '\\', non-ASCII or '#', and every '%'
/// starts a valid escape. Returns an error detail, empty when the bytes are fine.
std::string_view check_bytes(std::string_view part, std::string_view bad_escape) noexcept {
    for (std::size_t i = 0; i < part.size(); ++i) {
        const auto c = static_cast<unsigned char>(part[i]);
        if (c < 0x21 || c >= 0x7F) return "control character, space or non-ASCII byte in target";
        if (c == '\\') return "backslash in target";
        if (c == '#') return "fragment in target";
        if (c == '%' && !is_escape_at(part, i)) return bad_escape;
    }
    return {};
}

/// "." or ".." once %2e/%2E are read as '.' (RFC 3986 §5.2.4 would remove it; we refuse it).
bool is_dot_segment(std::string_view segment) noexcept {
    std::size_t dots = 0;
    for (std::size_t i = 0; i < segment.size(); ++dots) {
        if (segment[i] == '.') {
            i += 1;
        } else if (segment[i] == '%' && segment.substr(i, 3) == "%2e") {
            i += 3;
        } else if (segment[i] == '%' && segment.substr(i, 3) == "%2E") {
            i += 3;
        } else {
            return false;
        }
    }
    return dots == 1 || dots == 2;
}

/// Path-only rules; the bytes have already passed check_bytes.
std::string_view check_path(std::string_view path) noexcept {
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] != '%') continue;
        const auto decoded = static_cast<unsigned char>(escaped_byte(path, i));
        if (decoded == '/' || decoded == '\\') return "encoded slash or backslash in path";
        if (decoded < 0x20 || decoded == 0x7F) return "encoded control character in path";
        i += 2;
    }
    // Segments follow each '/'; only the very last one may be empty (one trailing slash).
    std::size_t start = 1;
    for (;;) {
        const std::size_t slash = path.find('/', start);
        const std::string_view segment = path.substr(start, slash - start);
        if (slash == std::string_view::npos) {
            return is_dot_segment(segment) ? "dot segment in path" : std::string_view{};
        }
        if (segment.empty()) return "empty segment in path";
        if (is_dot_segment(segment)) return "dot segment in path";
        start = slash + 1;
    }
}

/// Whether a query parameter's name, percent-decoded with '+' as space, equals `expected`.
/// Decodes on the fly: no allocation on the request path.
bool decoded_name_equals(std::string_view name, std::string_view expected) noexcept {
    std::size_t matched = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && is_escape_at(name, i)) {
            c = escaped_byte(name, i);
            i += 2;
        }
        if (matched == expected.size() || expected[matched] != c) return false;
        ++matched;
    }
    return matched == expected.size();
}

}  // namespace

TargetResult parse_target(std::string_view raw) noexcept {
    if (raw.empty() || raw.front() != '/') return reject("request target must start with '/'");
    const std::size_t question = raw.find('?');
    const std::string_view path = raw.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : raw.substr(question + 1);

    if (auto error = check_bytes(path, "invalid percent-escape in path"); !error.empty())
        return reject(error);
    if (auto error = check_bytes(query, "invalid percent-escape in query"); !error.empty())
        return reject(error);
    if (auto error = check_path(path); !error.empty()) return reject(error);

    return TargetResult{true, TargetView{path, query, question != std::string_view::npos}, {}};
}

void append_audit_target(std::string_view raw, std::string& out) {
    std::string_view rest = raw.substr(0, raw.find_first_of("?#"));
    if (!rest.starts_with('/') || rest.starts_with("//")) {
        // Not origin-form (absolute "scheme://…", authority "host:port", "//…"): the authority,
        // after any "//", may start with "user:password@"; leave out everything up to its last '@'.
        const auto slashes = rest.find("//");
        const std::size_t authority = slashes == std::string_view::npos ? 0 : slashes + 2;
        const auto end = rest.find('/', authority);
        const auto at = rest.substr(authority, end == std::string_view::npos ? end : end - authority).rfind('@');
        if (at != std::string_view::npos) {
            out.append(rest.substr(0, authority));
            rest.remove_prefix(authority + at + 1);
        }
    }
    out.append(rest);
}

void append_forward_target(const TargetView& target, std::string& out) {
    out.append(target.path);
    if (target.query.empty()) return;
    // The kept parameters are joined as sent, empty ones ("a&&b") included; only "token" goes.
    const std::size_t question = out.size();
    std::string_view rest = target.query;
    for (;;) {
        const std::size_t amp = rest.find('&');
        const std::string_view param = rest.substr(0, amp);
        if (!decoded_name_equals(param.substr(0, param.find('=')), "token")) {
            out.push_back(out.size() == question ? '?' : '&');
            out.append(param);
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    if (out.size() == question + 1) out.pop_back();  // an emptied '?' is dropped
}

}  // namespace giosg::http
