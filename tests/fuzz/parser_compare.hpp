#pragma once
// One request head read by both parsers, reduced to accept / reject / incomplete, for the
// disagreement table of bench/README.md ("Request parser: the gateway's own vs Beast's"): the
// attack battery (tests/integration/attack_test.cpp) and the request corpus beside this file.
// Only the head is compared; the target's own rules (parse_target) run after either parser.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "http/head.hpp"

namespace giosg::parser_compare {

enum class Verdict { accept, reject, incomplete };

inline std::string_view verdict_name(Verdict v) {
    return v == Verdict::accept ? "accept" : v == Verdict::reject ? "reject" : "incomplete";
}

struct Reading {
    Verdict verdict = Verdict::incomplete;
    std::string why;  // the reject's detail or Beast's error message
};

inline Reading own_reading(std::string_view bytes, std::size_t max_head) {
    http::RequestHead head;
    const http::ParseResult r = http::parse_request_head(bytes, max_head, head);
    if (r.status == http::ParseStatus::complete) return {Verdict::accept, {}};
    if (r.status == http::ParseStatus::need_more) return {Verdict::incomplete, {}};
    return {Verdict::reject, std::string(r.detail)};
}

inline Reading beast_reading(std::string_view bytes, std::size_t max_head) {
    namespace bhttp = boost::beast::http;
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(max_head));
    parser.eager(false);         // stop after the head, as the gateway's parser does
    parser.body_limit(boost::none);  // the body limit is a later step in both designs
    boost::system::error_code ec;
    std::size_t used = 0;
    // put() may stop early (it consumes whole lines); feed it until the head is done or it fails.
    while (!ec && !parser.is_header_done() && used < bytes.size()) {
        const std::size_t n = parser.put(boost::asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
        if (n == 0 && !ec) break;
        used += n;
    }
    if (parser.is_header_done()) return {Verdict::accept, {}};
    if (ec == bhttp::error::need_more || !ec) return {Verdict::incomplete, {}};
    return {Verdict::reject, ec.message()};
}

/// The bytes as one table cell: printable ASCII kept, the rest escaped, cut at `max` characters.
inline std::string printable(std::string_view bytes, std::size_t max = 60) {
    std::string out;
    for (const char c : bytes) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '|') out += "\\|";
        else if (c >= ' ' && c < 127) out += c;
        else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
            out += kHex[static_cast<unsigned char>(c) & 15];
        }
    }
    return out;
}

}  // namespace giosg::parser_compare
