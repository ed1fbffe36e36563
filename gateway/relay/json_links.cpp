#include "relay/json_links.hpp"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

#include "relay/link_rewrite.hpp"

namespace giosg::relay {

namespace json = boost::json;

namespace {

// Accepts every event: the parser alone decides well-formedness, and nothing is built.
struct NullHandler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t, json::error_code&) { return true; }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t, json::error_code&) { return true; }
    bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
    bool on_double(double, json::string_view, json::error_code&) { return true; }
    bool on_bool(bool, json::error_code&) { return true; }
    bool on_null(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
};

json::parse_options validator_options() {
    json::parse_options options;
    // The default (32) is a guard for building documents; validation keeps no per-level state
    // beyond the parser's own stack, and real API bodies can nest deeper than 32.
    options.max_depth = 10000;
    return options;
}

// ---------------------------------------------------------------------------------------------
// Scanner over text already known to be valid JSON.

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view text, std::size_t i) {
    while (i < text.size() && is_ws(text[i])) ++i;
    return i;
}

// `i` at an opening quote; returns the index just past the closing one.
std::size_t end_of_string(std::string_view text, std::size_t i) {
    ++i;
    while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
    return i + 1;
}

// `i` at the first byte of a value that is not a string; returns the index just past it.
std::size_t end_of_value(std::string_view text, std::size_t i) {
    if (text[i] != '{' && text[i] != '[') {
        while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && !is_ws(text[i])) ++i;
        return i;
    }
    std::size_t depth = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '"') {
            i = end_of_string(text, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
        ++i;
    }
    return i;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::uint32_t> read_u4(std::string_view raw, std::size_t i) {
    if (i + 4 > raw.size()) return std::nullopt;
    std::uint32_t value = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        int digit = hex_value(raw[i + k]);
        if (digit < 0) return std::nullopt;
        value = value * 16 + static_cast<std::uint32_t>(digit);
    }
    return value;
}

void append_utf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The contents of a JSON string (between the quotes) unescaped; nullopt for a lone surrogate,
// which has no UTF-8 form.
std::optional<std::string> decode_string(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\') {
            out += raw[i];
            continue;
        }
        if (++i >= raw.size()) return std::nullopt;
        switch (raw[i]) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                auto unit = read_u4(raw, i + 1);
                if (!unit) return std::nullopt;
                i += 4;
                std::uint32_t cp = *unit;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return std::nullopt;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (i + 2 >= raw.size() || raw[i + 1] != '\\' || raw[i + 2] != 'u') return std::nullopt;
                    auto low = read_u4(raw, i + 3);
                    if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
                }
                append_utf8(cp, out);
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return out;
}

// A JSON string literal with only the escapes JSON requires; '/' stays as it is.
void append_json_string(std::string_view value, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : value) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHex[(c >> 4) & 0xF];
                    out += kHex[c & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

bool is_link_key(std::string_view raw_key) {
    if (raw_key.find('\\') == std::string_view::npos) return raw_key == "next" || raw_key == "previous";
    auto decoded = decode_string(raw_key);
    return decoded && (*decoded == "next" || *decoded == "previous");
}

struct Splice {
    std::size_t begin, end;  // the old string literal, quotes included
    std::string literal;     // the new one
};

}  // namespace

struct JsonValidator::Impl {
    Impl() : parser(validator_options()) {}
    json::basic_parser<NullHandler> parser;
    bool failed = false;
    bool ended = false;
};

JsonValidator::JsonValidator() : impl_(std::make_unique<Impl>()) {}
JsonValidator::~JsonValidator() = default;

bool JsonValidator::feed(std::string_view piece, bool last) {
    auto& v = *impl_;
    if (v.failed) return false;
    if (v.ended) {
        v.failed = !piece.empty();  // text after the end is extra data, never valid
        return !v.failed;
    }
    json::error_code ec;
    const std::size_t used = v.parser.write_some(!last, piece.data(), piece.size(), ec);
    // Anything left over after a complete value is extra data, never valid.
    if (ec || used != piece.size() || (last && !v.parser.done())) v.failed = true;
    v.ended = last;
    return !v.failed;
}

bool JsonValidator::finish() { return feed({}, true); }

bool is_valid_json(std::string_view text) {
    JsonValidator validator;
    return validator.feed(text, true);
}

LinkRewrite rewrite_json_links(std::string_view body, LinkContext& links, std::string& out, JsonCheck check) {
    if (check == JsonCheck::validate && !is_valid_json(body)) return LinkRewrite::invalid_json;

    std::size_t i = skip_ws(body, 0);
    if (i >= body.size() || body[i] != '{') return LinkRewrite::unchanged;
    ++i;
    std::vector<Splice> splices;
    while (true) {
        i = skip_ws(body, i);
        if (i >= body.size() || body[i] == '}') break;
        // A member: "key" ws : ws value ws [,]
        const std::size_t key_begin = i;
        i = end_of_string(body, i);
        if (i > body.size()) break;  // only on text that was not valid after all
        const std::string_view raw_key = body.substr(key_begin + 1, i - key_begin - 2);
        i = skip_ws(body, i);
        i = skip_ws(body, i + 1);  // past ':'
        if (i >= body.size()) break;
        const std::size_t value_begin = i;
        if (body[i] == '"') {
            i = end_of_string(body, i);
            if (i > body.size()) break;
            if (is_link_key(raw_key)) {
                auto decoded = decode_string(body.substr(value_begin + 1, i - value_begin - 2));
                std::optional<std::string> rewritten;
                if (decoded) rewritten = links.rewrite(*decoded);
                if (rewritten) {
                    Splice splice{value_begin, i, {}};
                    append_json_string(*rewritten, splice.literal);
                    // A public origin equal to the upstream's changes nothing: report unchanged.
                    if (splice.literal != body.substr(value_begin, i - value_begin)) splices.push_back(std::move(splice));
                }
            }
        } else {
            i = end_of_value(body, i);
        }
        i = skip_ws(body, i);
        if (i < body.size() && body[i] == ',') ++i;
    }
    if (splices.empty()) return LinkRewrite::unchanged;

    std::size_t copied = 0;
    for (const Splice& splice : splices) {
        out.append(body.substr(copied, splice.begin - copied));
        out += splice.literal;
        copied = splice.end;
    }
    out.append(body.substr(copied));
    return LinkRewrite::rewritten;
}

}  // namespace giosg::relay
