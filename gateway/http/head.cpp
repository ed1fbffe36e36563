#include "http/head.hpp"

#include <optional>
#include <span>

#include "common/ascii.hpp"
#include "http/chars.hpp"

namespace giosg::http {

namespace {

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line (some
// clients send a CRLF after a POST body). A handful is tolerated; more is not a request.
constexpr int kMaxLeadingEmptyLines = 4;
// Field-count bound; answered 431 like an oversized head.
constexpr std::size_t kMaxFields = 100;
// 19 decimal digits always fit in uint64_t (max 1.8e19), so no overflow check is needed.
constexpr std::size_t kMaxContentLengthDigits = 19;

ParseResult fail(Reason reason, std::string_view detail) noexcept {
    return ParseResult{ParseStatus::error, 0, reason, detail};
}
ParseResult bad(std::string_view detail) noexcept { return fail(Reason::bad_request, detail); }

/// No complete head in the buffer: read more, or 431 once `max_head_bytes` were seen without one.
ParseResult incomplete(std::string_view buffer, std::size_t max_head_bytes) noexcept {
    if (buffer.size() >= max_head_bytes)
        return fail(Reason::headers_too_large, "header fields too large");
    return ParseResult{};
}

enum class LineStatus : std::uint8_t { line, incomplete, bare_lf };

/// Takes the next CRLF-terminated line of `window` starting at `pos` (CRLF not included).
/// A bare CR inside the line is left for the line's own validation, which rejects it.
LineStatus next_line(std::string_view window, std::size_t& pos, std::string_view& line) noexcept {
    const std::size_t lf = window.find('\n', pos);
    if (lf == std::string_view::npos) return LineStatus::incomplete;
    if (lf == pos || window[lf - 1] != '\r') return LineStatus::bare_lf;
    line = window.substr(pos, lf - 1 - pos);
    pos = lf + 1;
    return LineStatus::line;
}

/// A CR that is not the last byte of an unfinished line can never become CRLF: reject it now
/// instead of waiting for more bytes.
bool has_bare_cr(std::string_view partial_line) noexcept {
    const std::size_t cr = partial_line.find('\r');
    return cr != std::string_view::npos && cr + 1 < partial_line.size();
}

/// Takes the next line of a field block or status line: nullopt when `line` was taken, else what
/// the parser returns now (400 for a bare LF or an unfinishable bare CR, or "read more"/431).
std::optional<ParseResult> take_line(std::string_view buffer, std::size_t max_head_bytes, std::size_t& pos,
                                     std::string_view& line) noexcept {
    const std::string_view window = buffer.substr(0, max_head_bytes);
    switch (next_line(window, pos, line)) {
        case LineStatus::bare_lf: return bad("bare LF in header");
        case LineStatus::incomplete:
            if (has_bare_cr(window.substr(pos))) return bad("bare CR in header");
            return incomplete(buffer, max_head_bytes);
        case LineStatus::line: break;
    }
    return std::nullopt;
}

std::string_view field_byte_error(char c) noexcept {
    if (c == '\r') return "bare CR in header";
    if (c == '\0') return "NUL in header";
    return "control character in field value";
}

/// Parses `name: value` (RFC 9112 §5); returns an error detail, empty when valid.
std::string_view parse_field_line(std::string_view line, Field& field) noexcept {
    if (chars::is_ows(line.front())) return "obsolete line folding";
    std::size_t colon = 0;
    while (colon < line.size() && chars::is_tchar(line[colon])) ++colon;
    if (colon == line.size()) return "field line without colon";
    if (line[colon] != ':') {
        if (chars::is_ows(line[colon])) return "whitespace before colon or inside field name";
        if (line[colon] == '\r') return "bare CR in header";
        if (line[colon] == '\0') return "NUL in header";
        return "invalid character in field name";
    }
    if (colon == 0) return "empty field name";
    const std::string_view value = line.substr(colon + 1);
    for (char c : value)
        if (!chars::is_field_byte(c)) return field_byte_error(c);
    field.name = line.substr(0, colon);
    field.value = chars::trim_ows(value);
    return {};
}

/// Parses field lines from `pos` up to and including the empty line that ends the head.
ParseResult parse_fields(std::string_view buffer, std::size_t max_head_bytes, std::size_t pos,
                         std::vector<Field>& fields) {
    for (;;) {
        if (fields.size() == kMaxFields) {
            // Only the final CRLF may follow. Decided on the first byte of the next line, so the
            // answer is the same however the bytes were split into reads (found by fuzzing).
            const std::string_view rest = buffer.substr(std::min(pos, buffer.size()));
            if (!rest.empty() && rest != "\r" && !rest.starts_with("\r\n"))
                return fail(Reason::headers_too_large, "too many header fields");
        }
        std::string_view line;
        if (auto stop = take_line(buffer, max_head_bytes, pos, line)) return *stop;
        if (line.empty()) return ParseResult{ParseStatus::complete, pos, Reason::ok, {}};
        Field field;
        if (const std::string_view error = parse_field_line(line, field); !error.empty())
            return bad(error);
        fields.push_back(field);
    }
}

/// Visits the non-empty elements of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed.
/// Stops early when `visit` returns true; returns whether it did.
template <typename Visit>
bool any_list_element(std::string_view list, Visit&& visit) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view element = chars::trim_ows(list.substr(0, comma));
        if (!element.empty() && visit(element)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool fields_list_option(std::span<const Field> fields, std::string_view header,
                        std::string_view option) noexcept {
    for (const Field& field : fields) {
        if (!iequals(field.name, header)) continue;
        if (any_list_element(field.value, [&](std::string_view e) { return iequals(e, option); }))
            return true;
    }
    return false;
}

/// 1–19 ASCII digits, nothing else (no sign, no list, no whitespace inside).
std::optional<std::uint64_t> parse_content_length(std::string_view value) noexcept {
    if (value.empty() || value.size() > kMaxContentLengthDigits) return std::nullopt;
    std::uint64_t length = 0;
    for (char c : value) {
        if (!chars::is_digit(c)) return std::nullopt;
        length = length * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return length;
}

/// "HTTP/1.0" or "HTTP/1.1" (case-sensitive, RFC 9112 §2.3); the minor version, or -1.
int parse_version(std::string_view version) noexcept {
    if (version == "HTTP/1.1") return 1;
    if (version == "HTTP/1.0") return 0;
    return -1;
}

/// The framing fields of a message, collected in one pass.
struct FramingFields {
    std::size_t host_count = 0;
    std::size_t transfer_encoding_count = 0;
    std::size_t content_length_count = 0;
    std::string_view transfer_encoding;  // the first one
    std::string_view content_length;     // the first one
    bool expect_continue = false;
};

FramingFields collect_framing(std::span<const Field> fields) noexcept {
    FramingFields framing;
    for (const Field& field : fields) {
        if (iequals(field.name, "host")) {
            ++framing.host_count;
        } else if (iequals(field.name, "transfer-encoding")) {
            if (framing.transfer_encoding_count++ == 0) framing.transfer_encoding = field.value;
        } else if (iequals(field.name, "content-length")) {
            if (framing.content_length_count++ == 0) framing.content_length = field.value;
        } else if (iequals(field.name, "expect")) {
            framing.expect_continue = framing.expect_continue || iequals(field.value, "100-continue");
        }
    }
    return framing;
}

/// Parses the request-line "METHOD SP request-target SP HTTP-version" (RFC 9112 §3).
std::string_view parse_request_line(std::string_view line, RequestHead& out) noexcept {
    std::size_t method_end = 0;
    while (method_end < line.size() && chars::is_tchar(line[method_end])) ++method_end;
    if (method_end == 0 || method_end == line.size() || line[method_end] != ' ')
        return "malformed request line";
    if (method_end > kMaxMethodLength) return "method too long";
    const std::size_t target_start = method_end + 1;
    const std::size_t target_end = line.find(' ', target_start);
    if (target_end == std::string_view::npos || target_end == target_start)
        return "malformed request line";
    // Only what would break the line is rejected here; parse_target owns every other target rule.
    const std::string_view target = line.substr(target_start, target_end - target_start);
    if (target.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        return "control character in request target";
    const int minor = parse_version(line.substr(target_end + 1));
    if (minor < 0) return "unsupported HTTP version";
    out.method = line.substr(0, method_end);
    out.target = target;
    out.version_minor = minor;
    return {};
}

/// Rejects what a partial request-line already shows to be no HTTP/1 request (a TLS handshake
/// on the plain port, binary noise) without waiting for the rest of it.
bool partial_request_line_is_invalid(std::string_view partial) noexcept {
    if (has_bare_cr(partial)) return true;
    if (!partial.empty() && partial.back() == '\r') partial.remove_suffix(1);  // CRLF may follow
    std::size_t i = 0;
    while (i < partial.size() && chars::is_tchar(partial[i])) ++i;
    if (i > kMaxMethodLength) return true;
    return i < partial.size() && (partial[i] != ' ' || i == 0);
}

/// Applies the request framing rules of docs/reference.md §3 step 1 to a complete head.
std::string_view derive_request(RequestHead& out) noexcept {
    const FramingFields framing = collect_framing(out.fields);
    const bool http11 = out.version_minor == 1;

    if (http11 ? framing.host_count != 1 : framing.host_count > 1)
        return http11 && framing.host_count == 0 ? "missing Host header" : "repeated Host header";

    if (framing.transfer_encoding_count > 0) {
        // RFC 9112 §6.1: TE in HTTP/1.0 means faulty framing; §6.3: TE with CL is smuggling.
        if (!http11) return "Transfer-Encoding in HTTP/1.0 request";
        if (framing.transfer_encoding_count > 1) return "repeated Transfer-Encoding header";
        if (!iequals(framing.transfer_encoding, "chunked"))
            return "Transfer-Encoding other than chunked";
        if (framing.content_length_count > 0)
            return "Transfer-Encoding together with Content-Length";
        out.body = BodyKind::chunked;
    } else if (framing.content_length_count > 0) {
        if (framing.content_length_count > 1) return "repeated Content-Length header";
        const auto length = parse_content_length(framing.content_length);
        if (!length) return "invalid Content-Length";
        out.content_length = *length;
        out.body = *length == 0 ? BodyKind::none : BodyKind::content_length;
    }

    const bool close = out.connection_lists("close");
    out.keep_alive = http11 ? !close : (!close && out.connection_lists("keep-alive"));
    // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored.
    out.expect_continue = http11 && framing.expect_continue;
    return {};
}

/// Parses the status-line "HTTP/1.x SP 3DIGIT SP reason" (the SP before an empty reason may be
/// missing: some servers send "HTTP/1.1 200\r\n").
std::string_view parse_status_line(std::string_view line, ResponseHead& out) noexcept {
    constexpr std::size_t kVersionLength = 8;  // "HTTP/1.1"
    if (line.size() < kVersionLength + 4 || line[kVersionLength] != ' ')
        return "malformed status line";
    const int minor = parse_version(line.substr(0, kVersionLength));
    if (minor < 0) return "unsupported HTTP version";
    const std::string_view code = line.substr(kVersionLength + 1, 3);
    if (!chars::is_digit(code[0]) || !chars::is_digit(code[1]) || !chars::is_digit(code[2]))
        return "malformed status code";
    const int status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (status < 100 || status > 599) return "status code out of range";
    std::string_view reason;
    const std::size_t rest = kVersionLength + 4;
    if (line.size() > rest) {
        if (line[rest] != ' ') return "malformed status line";
        reason = line.substr(rest + 1);
        for (char c : reason)
            if (!chars::is_field_byte(c)) return field_byte_error(c);
    }
    out.version_minor = minor;
    out.status = status;
    out.reason_phrase = reason;
    return {};
}

/// Applies the response framing rules (RFC 9112 §6.3) to a complete head.
std::string_view derive_response(ResponseHead& out, bool request_was_head) noexcept {
    const FramingFields framing = collect_framing(out.fields);
    const bool http11 = out.version_minor == 1;

    if (framing.transfer_encoding_count > 0 && framing.content_length_count > 0)
        return "Transfer-Encoding together with Content-Length";
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (framing.transfer_encoding_count > 0 && !http11)
        return "Transfer-Encoding in HTTP/1.0 response";
    if (framing.content_length_count > 1) return "repeated Content-Length header";

    BodyKind body = BodyKind::until_close;
    std::uint64_t content_length = 0;
    bool other_coding = false;
    if (framing.transfer_encoding_count > 0) {
        // The codings of all TE fields form one list; chunked counts only as the final one.
        std::size_t codings = 0;
        std::size_t chunked_count = 0;
        bool final_is_chunked = false;
        for (const Field& field : out.fields) {
            if (!iequals(field.name, "transfer-encoding")) continue;
            any_list_element(field.value, [&](std::string_view coding) {
                ++codings;
                final_is_chunked = iequals(coding, "chunked");
                chunked_count += final_is_chunked ? 1 : 0;
                return false;
            });
        }
        if (codings == 0) return "empty Transfer-Encoding";
        // RFC 9112 §6.1: chunked MUST NOT be applied more than once.
        if (chunked_count > 1) return "chunked applied more than once";
        if (final_is_chunked) body = BodyKind::chunked;
        other_coding = codings > chunked_count;
    } else if (framing.content_length_count == 1) {
        const auto length = parse_content_length(framing.content_length);
        if (!length) return "invalid Content-Length";
        content_length = *length;
        body = *length == 0 ? BodyKind::none : BodyKind::content_length;
    }

    // RFC 9112 §6.3 rule 1: these responses end with their head whatever the fields say.
    const bool bodiless = request_was_head || out.status < 200 || out.status == 204 ||
                          out.status == 304;
    if (bodiless) {
        body = BodyKind::none;
        content_length = 0;
    }
    out.body = body;
    out.content_length = content_length;
    out.other_coding = other_coding && body != BodyKind::none;

    const bool close = out.connection_lists("close");
    out.keep_alive = !close && (http11 || out.connection_lists("keep-alive")) &&
                     body != BodyKind::until_close &&
                     out.status != 101;  // after 101 the connection speaks another protocol
    return {};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept { return ascii_iequals(a, b); }

void RequestHead::clear() noexcept {
    method = {};
    target = {};
    version_minor = 1;
    fields.clear();
    body = BodyKind::none;
    content_length = 0;
    keep_alive = true;
    expect_continue = false;
}

std::size_t RequestHead::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const Field& field : fields)
        if (iequals(field.name, name)) ++n;
    return n;
}

std::optional<std::string_view> RequestHead::find(std::string_view name) const noexcept {
    for (const Field& field : fields)
        if (iequals(field.name, name)) return field.value;
    return std::nullopt;
}

bool RequestHead::connection_lists(std::string_view name) const noexcept {
    return fields_list_option(fields, "connection", name);
}

void ResponseHead::clear() noexcept {
    version_minor = 1;
    status = 0;
    reason_phrase = {};
    fields.clear();
    body = BodyKind::none;
    content_length = 0;
    keep_alive = true;
    other_coding = false;
}

bool ResponseHead::connection_lists(std::string_view name) const noexcept {
    return fields_list_option(fields, "connection", name);
}

std::optional<RequestLineParts> request_line_parts(std::string_view buffer) noexcept {
    while (buffer.starts_with("\r\n")) buffer.remove_prefix(2);
    const auto end = buffer.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = buffer.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::size_t method_end = 0;
    while (method_end < line.size() && chars::is_tchar(line[method_end])) ++method_end;
    if (method_end == 0 || method_end > kMaxMethodLength || method_end == line.size() || line[method_end] != ' ')
        return std::nullopt;
    const std::size_t target_start = method_end + 1;
    const std::size_t target_end = line.find(' ', target_start);
    if (target_end == std::string_view::npos || target_end == target_start) return std::nullopt;
    if (!line.substr(target_end + 1).starts_with("HTTP/")) return std::nullopt;
    const std::string_view target = line.substr(target_start, target_end - target_start);
    for (const char c : target)
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return std::nullopt;
    return RequestLineParts{line.substr(0, method_end), target};
}

ParseResult parse_request_head(std::string_view buffer, std::size_t max_head_bytes,
                               RequestHead& out) {
    out.clear();
    const std::string_view window = buffer.substr(0, max_head_bytes);
    std::size_t pos = 0;
    std::string_view line;
    for (int empty_lines = 0;; ++empty_lines) {
        switch (next_line(window, pos, line)) {
            case LineStatus::bare_lf: return bad("bare LF in header");
            case LineStatus::incomplete:
                if (partial_request_line_is_invalid(window.substr(pos)))
                    return bad("malformed request line");
                return incomplete(buffer, max_head_bytes);
            case LineStatus::line: break;
        }
        if (!line.empty()) break;
        if (empty_lines == kMaxLeadingEmptyLines) return bad("malformed request line");
    }
    if (const std::string_view error = parse_request_line(line, out); !error.empty())
        return bad(error);

    ParseResult result = parse_fields(buffer, max_head_bytes, pos, out.fields);
    if (result.status != ParseStatus::complete) return result;
    if (const std::string_view derive_error = derive_request(out); !derive_error.empty())
        return bad(derive_error);
    return result;
}

ParseResult parse_response_head(std::string_view buffer, std::size_t max_head_bytes,
                                bool request_was_head, ResponseHead& out) {
    out.clear();
    std::size_t pos = 0;
    std::string_view line;
    if (auto stop = take_line(buffer, max_head_bytes, pos, line)) return *stop;
    if (const std::string_view error = parse_status_line(line, out); !error.empty())
        return bad(error);

    ParseResult result = parse_fields(buffer, max_head_bytes, pos, out.fields);
    if (result.status != ParseStatus::complete) return result;
    if (const std::string_view error = derive_response(out, request_was_head); !error.empty())
        return bad(error);
    return result;
}

bool is_hop_by_hop(std::string_view name) noexcept {
    constexpr std::string_view kProxyPrefix = "proxy-";  // also covers Proxy-Connection
    if (name.size() >= kProxyPrefix.size() &&
        iequals(name.substr(0, kProxyPrefix.size()), kProxyPrefix))
        return true;
    return iequals(name, "connection") || iequals(name, "keep-alive") || iequals(name, "te") ||
           iequals(name, "trailer") || iequals(name, "transfer-encoding") ||
           iequals(name, "upgrade");
}

}  // namespace giosg::http
