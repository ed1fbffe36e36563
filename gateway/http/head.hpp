#pragma once
// Strict, zero-copy HTTP/1.1 message-head parsing (RFC 9112) shared by the client side (requests)
// and the upstream side (responses). No Asio here: it works on bytes already read.
//
// The parser rejects instead of repairing: a gateway that "fixes" a message differently from the
// server behind it is how request smuggling happens (RFC 9112 §11.2). Every field view points into
// the caller's buffer and is valid while those bytes are.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/reason.hpp"

namespace giosg::http {

struct Field {
    std::string_view name;   // as sent (case preserved); token characters only
    std::string_view value;  // leading/trailing SP/HTAB trimmed
};

/// Case-insensitive ASCII comparison used for field names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

enum class ParseStatus : std::uint8_t { complete, need_more, error };

struct ParseResult {
    ParseStatus status = ParseStatus::need_more;
    std::size_t head_bytes = 0;             // bytes of the head incl. the final CRLF (complete only)
    Reason reason = Reason::ok;             // bad_request or headers_too_large (error only)
    std::string_view detail;                // static text, safe to send to the client (error only)
};

enum class BodyKind : std::uint8_t { none, content_length, chunked, until_close };

struct RequestHead {
    std::string_view method;
    std::string_view target;
    int version_minor = 1;                  // HTTP/1.<minor>; only 0 and 1 are accepted
    std::vector<Field> fields;              // reused between requests: clear() keeps capacity

    // Derived by parse_request_head from the fields (valid when status == complete):
    BodyKind body = BodyKind::none;         // none (also for Content-Length: 0), content_length
                                            // or chunked
    std::uint64_t content_length = 0;
    bool keep_alive = true;                 // HTTP/1.1 default unless "Connection: close"
    bool expect_continue = false;           // "Expect: 100-continue" on HTTP/1.1; other Expect
                                            // values are ignored, not rejected

    void clear() noexcept;
    /// Number of fields with this (case-insensitive) name.
    [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
    /// First field with this name, if any.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
    /// True when a Connection header lists `name` as a connection option.
    [[nodiscard]] bool connection_lists(std::string_view name) const noexcept;
};

/// Parses a request head from the start of `buffer`.
/// need_more: no complete head yet and fewer than `max_head_bytes` bytes seen (read more);
/// error with headers_too_large when the head (request line + fields) exceeds `max_head_bytes`;
/// error with bad_request for any framing rule of docs/reference.md §3 step 1: bare LF or bare CR, obs-fold,
/// whitespace before a colon or inside a field name, NUL/CTL in a value, bad request line, version
/// other than HTTP/1.0 or HTTP/1.1, missing or repeated Host on HTTP/1.1, Transfer-Encoding other
/// than exactly one "chunked", Transfer-Encoding on HTTP/1.0, TE together with Content-Length,
/// repeated/listed/non-decimal Content-Length. Up to four empty lines before the request line
/// are skipped (RFC 9112 §2.2) and counted in head_bytes; more than 100 fields is
/// headers_too_large. The target is only checked for CR, LF and NUL: parse_target owns the rest.
ParseResult parse_request_head(std::string_view buffer, std::size_t max_head_bytes, RequestHead& out);

struct ResponseHead {
    int version_minor = 1;
    int status = 0;
    std::string_view reason_phrase;
    std::vector<Field> fields;

    BodyKind body = BodyKind::none;         // derived; see parse_response_head
    std::uint64_t content_length = 0;
    bool keep_alive = true;                 // whether the upstream connection may be reused
    bool other_coding = false;              // a body with a transfer coding besides chunked (gzip, ...)

    void clear() noexcept;
    [[nodiscard]] bool connection_lists(std::string_view name) const noexcept;
};

/// A method longer than any registered one is a scanner or garbage, not a request (400).
inline constexpr std::size_t kMaxMethodLength = 32;

struct RequestLineParts {
    std::string_view method;
    std::string_view target;
};

/// The method and target of a request whose head was refused, for its audit record: only when
/// the first non-empty line of `buffer` is complete and shaped "TOKEN SP TARGET SP HTTP/...".
/// Anything else may be the middle of a head (a pipelined request cut short by a wrong
/// Content-Length), where "Token <key>" must not pass for a method and a target.
std::optional<RequestLineParts> request_line_parts(std::string_view buffer) noexcept;

/// Parses an upstream response head. `request_was_head` makes the body `none` whatever the
/// headers say (as do 1xx, 204 and 304). Content-Length together with Transfer-Encoding, a
/// repeated or listed Content-Length, or a bad status line is an error (the caller answers 502).
/// Transfer-Encoding whose final coding is chunked gives `chunked`; any other coding, or neither
/// header, gives `until_close`. Also errors: Transfer-Encoding on HTTP/1.0, chunked listed twice,
/// an empty Transfer-Encoding. Content-Length: 0 gives `none`; a 101 is never kept alive.
/// `other_coding` marks a body with any coding besides chunked (the caller cannot pass it on).
ParseResult parse_response_head(std::string_view buffer, std::size_t max_head_bytes,
                                bool request_was_head, ResponseHead& out);

/// True for the hop-by-hop fields of RFC 9110 §7.6.1 that are never forwarded either way:
/// Connection, Keep-Alive, Proxy-Connection, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade.
bool is_hop_by_hop(std::string_view name) noexcept;

/// Incremental chunked-body decoder (RFC 9112 §7.1). Chunk extensions are skipped; trailer
/// fields are validated like header fields and dropped. Extension and trailer bytes together
/// are bounded by `max_trailer_bytes` so that a body cannot smuggle unbounded metadata past the
/// body-size limit (compare CVE-2023-39326). An error is final until reset().
class ChunkedDecoder {
public:
    enum class Status : std::uint8_t { need_more, done, error };

    explicit ChunkedDecoder(std::size_t max_trailer_bytes = 16384) noexcept
        : max_trailer_bytes_(max_trailer_bytes) {}

    struct Step {
        Status status;
        std::size_t consumed;        // bytes of `input` used
        std::string_view data;       // body bytes found (a view into input; may be empty)
    };
    /// Decodes from `input`; returns after at most one data run, so call until consumed == size
    /// or status != need_more. `data` is valid while `input` is.
    Step feed(std::string_view input) noexcept;
    void reset() noexcept;

private:
    enum class State : std::uint8_t { size, size_lws, ext, size_lf, data, data_cr, data_lf,
                                      trailer_start, trailer_name, trailer_value, trailer_lf,
                                      final_lf, done, failed };
    State state_ = State::size;
    std::uint64_t remaining_ = 0;
    std::size_t size_digits_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t max_trailer_bytes_;
};

}  // namespace giosg::http
