// Beast request parsing and the gateway's normalisation together. The bytes go to
// http::parse_request_head (max 16384) and to Beast's request_parser; the gateway's parser is
// meant to be the stricter one, so every head it accepts must be one Beast accepts too, read the
// same way (method, target, version, fields). An accepted target then goes through parse_target
// and the forward target (target_properties.hpp), and a chunked body through ChunkedDecoder,
// which must not care how the bytes are split and must end the body where Beast ends it.
//
// Where the two legitimately differ, the property is relaxed precisely, each time for a reason
// that does not matter for security:
//  * Empty lines before the request line: RFC 9112 §2.2 lets a server skip them and ours skips
//    up to four; Beast rejects them (bad_method). Beast is given the bytes after them.
//  * Control characters (other than CR, LF, NUL) and DEL in the target: ours leaves the target to
//    parse_target, Beast rejects it in the request line (bad_target). Either way it is a 400, so
//    the property is that parse_target rejects it.
//  * A Connection or Proxy-Connection value that is no token list ("a b", "=", "x;y"): Beast
//    rejects it (bad_value); ours reads it as a comma list whose odd elements cannot name a
//    header or "close", so they change nothing. Beast must accept the same head with those
//    values replaced by the token "x".
//  * Beast keeps repeated fields next to each other (basic_fields::insert), so fields are
//    compared grouped by name, in order within each group.
//  * Keep-alive is compared only where both read the same thing: Beast also honours
//    Proxy-Connection, and on HTTP/1.0 lets "keep-alive" outweigh "close" (ours closes).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "fuzz_check.hpp"
#include "http/head.hpp"
#include "target_properties.hpp"

namespace {

namespace http = giosg::http;
namespace bhttp = boost::beast::http;
using giosg::fuzz::ascii_iequals;
using giosg::fuzz::is_inside;

constexpr std::size_t kMaxHead = 16384;

bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// ---- our parser on its own ----------------------------------------------------------------------

void check_own_head(std::string_view input, const http::ParseResult& result, const http::RequestHead& head) {
    if (result.status == http::ParseStatus::error) {
        FUZZ_CHECK(!result.detail.empty());
        FUZZ_CHECK(result.reason == giosg::Reason::bad_request || result.reason == giosg::Reason::headers_too_large);
        return;
    }
    if (result.status == http::ParseStatus::need_more) {
        FUZZ_CHECK(input.size() < kMaxHead);
        return;
    }
    FUZZ_CHECK(result.head_bytes >= 4 && result.head_bytes <= std::min(input.size(), kMaxHead));
    FUZZ_CHECK(input.substr(result.head_bytes - 4, 4) == "\r\n\r\n");
    const std::string_view head_text = input.substr(0, result.head_bytes);
    FUZZ_CHECK(is_inside(head.method, head_text) && is_inside(head.target, head_text));
    FUZZ_CHECK(!head.method.empty() && head.method.size() <= 32);
    FUZZ_CHECK(std::all_of(head.method.begin(), head.method.end(), is_tchar));
    FUZZ_CHECK(!head.target.empty());
    FUZZ_CHECK(head.target.find_first_of(std::string_view("\r\n\0 ", 4)) == std::string_view::npos);
    FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1);
    FUZZ_CHECK(head.fields.size() <= 100);
    for (const http::Field& field : head.fields) {
        FUZZ_CHECK(is_inside(field.name, head_text) && is_inside(field.value, head_text));
        FUZZ_CHECK(!field.name.empty() && std::all_of(field.name.begin(), field.name.end(), is_tchar));
        for (char c : field.value) {
            const auto byte = static_cast<unsigned char>(c);
            FUZZ_CHECK(byte == '\t' || (byte >= 0x20 && byte != 0x7F));
        }
        FUZZ_CHECK(field.value.empty() || (field.value.front() != ' ' && field.value.front() != '\t'));
        FUZZ_CHECK(field.value.empty() || (field.value.back() != ' ' && field.value.back() != '\t'));
    }
    // The framing the gateway acts on.
    if (head.version_minor == 1) FUZZ_CHECK(head.count("host") == 1);
    FUZZ_CHECK(head.count("host") <= 1);
    if (head.body == http::BodyKind::chunked) {
        FUZZ_CHECK(head.version_minor == 1);
        FUZZ_CHECK(head.count("transfer-encoding") == 1 && head.count("content-length") == 0);
        FUZZ_CHECK(ascii_iequals(*head.find("transfer-encoding"), "chunked"));
    } else {
        FUZZ_CHECK(head.count("transfer-encoding") == 0);
        FUZZ_CHECK(head.count("content-length") <= 1);
        FUZZ_CHECK((head.body == http::BodyKind::content_length) == (head.content_length > 0));
        FUZZ_CHECK(head.body == http::BodyKind::none || head.body == http::BodyKind::content_length);
    }
    if (head.expect_continue) FUZZ_CHECK(head.version_minor == 1);
}

/// A request arrives in pieces and is parsed again as each one arrives: what a prefix of the
/// bytes decides (complete or error) must be what the whole input decides.
void check_prefix_agrees(std::string_view input, std::size_t cut, const http::ParseResult& whole,
                         const http::RequestHead& whole_head) {
    http::RequestHead head;
    const http::ParseResult prefix = http::parse_request_head(input.substr(0, cut), kMaxHead, head);
    if (prefix.status == http::ParseStatus::need_more) return;
    FUZZ_CHECK(prefix.status == whole.status);
    if (prefix.status == http::ParseStatus::error) {
        FUZZ_CHECK(prefix.reason == whole.reason);
        return;
    }
    FUZZ_CHECK(prefix.head_bytes == whole.head_bytes);
    FUZZ_CHECK(head.method == whole_head.method && head.target == whole_head.target);
    FUZZ_CHECK(head.fields.size() == whole_head.fields.size());
}

// ---- Beast's reading of the same bytes --------------------------------------------------------

struct BeastHead {
    boost::system::error_code ec;
    std::size_t consumed = 0;
    std::string method;
    std::string target;
    unsigned version = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
    bool keep_alive = false;
};

BeastHead beast_parse_head(std::string_view bytes) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(kMaxHead);
    parser.body_limit(boost::none);
    parser.eager(false);
    BeastHead beast;
    beast.consumed = parser.put(boost::asio::const_buffer(bytes.data(), bytes.size()), beast.ec);
    if (beast.ec) return beast;
    FUZZ_CHECK(parser.is_header_done());
    const auto& message = parser.get();
    beast.method = std::string(message.method_string());
    beast.target = std::string(message.target());
    beast.version = message.version();
    for (const auto& field : message) {
        beast.fields.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    beast.chunked = parser.chunked();
    if (auto length = parser.content_length()) beast.content_length = *length;
    beast.keep_alive = parser.keep_alive();
    return beast;
}

/// Fields grouped by (case-insensitive) name in first-seen order of the groups' members, keeping
/// the order within a group: Beast's list order (see the file comment).
std::vector<std::pair<std::string, std::string>> grouped(std::vector<std::pair<std::string, std::string>> fields) {
    const auto lower = [](std::string text) {
        for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        return text;
    };
    std::stable_sort(fields.begin(), fields.end(),
                     [&](const auto& a, const auto& b) { return lower(a.first) < lower(b.first); });
    return fields;
}

bool is_beast_token_list(std::string_view value) {
    // opt_token_list: elements are tokens separated by commas with OWS; empty elements allowed.
    for (std::string_view element : giosg::fuzz::split(value, ',')) {
        while (!element.empty() && (element.front() == ' ' || element.front() == '\t')) element.remove_prefix(1);
        while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) element.remove_suffix(1);
        if (!std::all_of(element.begin(), element.end(), is_tchar)) return false;
    }
    return true;
}

bool is_connection_field(std::string_view name) {
    return ascii_iequals(name, "connection") || ascii_iequals(name, "proxy-connection");
}

/// The head as ours read it, rebuilt with every Connection/Proxy-Connection value that is no
/// token list replaced by "x" (see the file comment). Returns false when nothing was replaced.
bool head_without_odd_connection_values(std::string_view head_text, const http::RequestHead& head,
                                        std::string& rebuilt) {
    bool replaced = false;
    std::size_t copied = 0;
    for (const http::Field& field : head.fields) {
        if (!is_connection_field(field.name) || is_beast_token_list(field.value)) continue;
        const auto at = static_cast<std::size_t>(field.value.data() - head_text.data());
        rebuilt.append(head_text.substr(copied, at - copied));
        rebuilt += 'x';
        copied = at + field.value.size();
        replaced = true;
    }
    rebuilt.append(head_text.substr(copied));
    return replaced;
}

void compare_with_beast(std::string_view input, const http::ParseResult& result, const http::RequestHead& head) {
    // Beast does not skip empty lines before the request line.
    std::size_t skipped = 0;
    while (input.substr(skipped, 2) == "\r\n") skipped += 2;
    const std::string_view head_text = input.substr(skipped, result.head_bytes - skipped);

    const bool target_has_ctl = std::any_of(head.target.begin(), head.target.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x21 || byte == 0x7F;
    });
    BeastHead beast = beast_parse_head(input.substr(skipped));
    if (target_has_ctl) {
        FUZZ_CHECK(beast.ec == bhttp::error::bad_target);
        FUZZ_CHECK(!http::parse_target(head.target).ok);
        return;
    }
    bool values_replaced = false;
    std::size_t beast_head_size = head_text.size();
    if (beast.ec == bhttp::error::bad_value) {
        std::string rebuilt;
        values_replaced = head_without_odd_connection_values(head_text, head, rebuilt);
        FUZZ_CHECK(values_replaced);
        beast = beast_parse_head(rebuilt);
        beast_head_size = rebuilt.size();
    }
    if (beast.ec) {
        std::fprintf(stderr, "Beast rejects a head ours accepts: %s\n", beast.ec.message().c_str());
    }
    FUZZ_CHECK(!beast.ec);
    FUZZ_CHECK(beast.consumed == beast_head_size);  // the head ends at the same byte

    FUZZ_CHECK(beast.method == head.method);
    FUZZ_CHECK(beast.target == head.target);
    FUZZ_CHECK(beast.version == 10u + static_cast<unsigned>(head.version_minor));
    std::vector<std::pair<std::string, std::string>> ours;
    for (const http::Field& field : head.fields) {
        const bool odd = values_replaced && is_connection_field(field.name) && !is_beast_token_list(field.value);
        ours.emplace_back(std::string(field.name), odd ? std::string("x") : std::string(field.value));
    }
    FUZZ_CHECK(grouped(ours) == grouped(beast.fields));

    // The framing: where the body is and how long it is must not differ (RFC 9112 §11.2).
    FUZZ_CHECK(beast.chunked == (head.body == http::BodyKind::chunked));
    if (head.body == http::BodyKind::content_length) FUZZ_CHECK(beast.content_length == head.content_length);
    if (beast.content_length) FUZZ_CHECK(*beast.content_length == head.content_length);
    if (!beast.content_length && !beast.chunked) FUZZ_CHECK(head.body == http::BodyKind::none);
    // See the file comment for what keep-alive is not compared on.
    const bool close_on_10 = head.version_minor == 0 && head.connection_lists("close");
    if (!values_replaced && head.count("proxy-connection") == 0 && !close_on_10)
        FUZZ_CHECK(beast.keep_alive == head.keep_alive);
}

// ---- the chunked body -------------------------------------------------------------------------

struct Decoded {
    http::ChunkedDecoder::Status status = http::ChunkedDecoder::Status::need_more;
    std::size_t consumed = 0;
    std::string data;
    bool operator==(const Decoded&) const = default;
};

/// Feeds `body` to a fresh decoder in pieces ending at `cuts` (ascending) and at the end.
Decoded decode(std::string_view body, std::size_t max_trailer_bytes, std::vector<std::size_t> cuts) {
    http::ChunkedDecoder decoder(max_trailer_bytes);
    Decoded decoded;
    cuts.push_back(body.size());
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        std::string_view piece = body.substr(start, cut - start);
        start = cut;
        while (!piece.empty()) {
            const http::ChunkedDecoder::Step step = decoder.feed(piece);
            FUZZ_CHECK(step.consumed <= piece.size());
            FUZZ_CHECK(is_inside(step.data, piece.substr(0, step.consumed)));
            FUZZ_CHECK(step.consumed > 0 || step.status != http::ChunkedDecoder::Status::need_more);
            decoded.data.append(step.data);
            decoded.consumed += step.consumed;
            decoded.status = step.status;
            piece.remove_prefix(step.consumed);
            if (step.status != http::ChunkedDecoder::Status::need_more) return decoded;
        }
    }
    return decoded;
}

/// Decodes `body` whole, in three pieces cut where the hash says, and (when short) byte by byte;
/// all must agree. Also with a tiny extension/trailer budget, to reach its limit. Returns the
/// whole-input result with the default budget.
Decoded check_chunked_body(std::string_view body, std::uint64_t hash) {
    Decoded result;
    for (std::size_t budget : {std::size_t{16384}, std::size_t{8}}) {
        const Decoded whole = decode(body, budget, {});
        if (whole.status == http::ChunkedDecoder::Status::need_more) FUZZ_CHECK(whole.consumed == body.size());
        const std::size_t a = hash % (body.size() + 1);
        const std::size_t b = (hash >> 32) % (body.size() + 1);
        FUZZ_CHECK((decode(body, budget, {std::min(a, b), std::max(a, b)}) == whole));
        if (body.size() <= 1024) {
            std::vector<std::size_t> every_byte(body.size());
            for (std::size_t i = 0; i < body.size(); ++i) every_byte[i] = i;
            FUZZ_CHECK((decode(body, budget, std::move(every_byte)) == whole));
        }
        if (budget == 16384) result = whole;
    }
    return result;
}

/// Where both Beast and ours read a whole chunked message, they read the same body and end it at
/// the same byte: a disagreement is what request smuggling is made of.
void compare_chunked_with_beast(std::string_view message, std::size_t head_bytes, const Decoded& ours) {
    if (ours.status != http::ChunkedDecoder::Status::done) return;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHead);
    parser.body_limit(boost::none);
    parser.eager(true);
    boost::system::error_code ec;
    const std::size_t consumed = parser.put(boost::asio::const_buffer(message.data(), message.size()), ec);
    if (ec || !parser.is_done()) return;  // Beast is stricter about chunk extensions
    FUZZ_CHECK(consumed == head_bytes + ours.consumed);
    FUZZ_CHECK(parser.get().body() == ours.data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = giosg::fuzz::as_text(data, size);
    const std::uint64_t hash = giosg::fuzz::input_hash(input);

    http::RequestHead head;
    const http::ParseResult result = http::parse_request_head(input, kMaxHead, head);
    check_own_head(input, result, head);
    if (!input.empty()) {
        const std::size_t end = result.status == http::ParseStatus::complete ? result.head_bytes : input.size();
        check_prefix_agrees(input, hash % end, result, head);
        check_prefix_agrees(input, end - 1, result, head);
    }
    if (result.status != http::ParseStatus::complete) return 0;

    compare_with_beast(input, result, head);
    giosg::fuzz::check_target(head.target);

    if (head.body == http::BodyKind::chunked) {
        const std::string_view body = input.substr(result.head_bytes);
        const Decoded decoded = check_chunked_body(body, hash);
        std::size_t skipped = 0;
        while (input.substr(skipped, 2) == "\r\n") skipped += 2;
        compare_chunked_with_beast(input.substr(skipped), result.head_bytes - skipped, decoded);
    }
    return 0;
}
