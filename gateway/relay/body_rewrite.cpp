#include "relay/body_rewrite.hpp"

#include <utility>

#include "common/ascii.hpp"

namespace giosg::relay {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// RFC 9110 tchar: what a type or subtype may consist of.
bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        for (char extra : std::string_view("!#$%&'*+-.^_`|~")) ok = ok || c == extra;
        if (!ok) return false;
    }
    return true;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) noexcept {
    std::string_view media = trim(content_type.substr(0, content_type.find(';')));
    auto slash = media.find('/');
    if (slash == std::string_view::npos) return false;
    std::string_view type = media.substr(0, slash);
    std::string_view subtype = media.substr(slash + 1);
    if (!is_token(type) || !is_token(subtype)) return false;
    if (ascii_iequals(type, "application") && ascii_iequals(subtype, "json")) return true;
    // A structured-syntax suffix (RFC 6839) needs a name before it: "+json" alone is not one.
    return subtype.size() > 5 && ascii_iequals(subtype.substr(subtype.size() - 5), "+json");
}

std::optional<ContentCoding> parse_content_coding(std::optional<std::string_view> content_encoding) noexcept {
    if (!content_encoding) return ContentCoding::identity;
    std::string_view coding = trim(*content_encoding);
    if (coding.empty() || ascii_iequals(coding, "identity")) return ContentCoding::identity;
    if (ascii_iequals(coding, "gzip") || ascii_iequals(coding, "x-gzip")) return ContentCoding::gzip;
    return std::nullopt;
}

std::string_view skip_reason_label(SkipReason reason) noexcept {
    switch (reason) {
        case SkipReason::too_large: return "too_large";
        case SkipReason::invalid_json: return "invalid_json";
        case SkipReason::bad_gzip: return "bad_gzip";
        case SkipReason::unsupported_encoding: return "unsupported_encoding";
    }
    return "unknown";
}

BodyRewriter::BodyRewriter(ContentCoding coding, LinkContext& links, std::size_t max_rewrite_bytes)
    : coding_(coding), links_(links), max_bytes_(max_rewrite_bytes) {
    if (coding_ == ContentCoding::gzip) inflater_.emplace(max_bytes_);
}

BodyRewriter::Feed BodyRewriter::skip(SkipReason reason) {
    skipped_ = reason;
    decoded_ = std::string();  // the caller only needs the original bytes from here on
    return Feed::skip;
}

BodyRewriter::Feed BodyRewriter::feed(std::string_view piece, bool last) {
    if (skipped_) {
        encoded_.append(piece);  // misuse after skip: keep every byte rather than lose one
        return Feed::skip;
    }
    encoded_.append(piece);
    if (encoded_.size() > max_bytes_) return skip(SkipReason::too_large);

    // Inflate and validate as the pieces come, so that a gzip bomb or a body that is not JSON
    // is given up on at once instead of after buffering up to the bound.
    std::string_view text = piece;
    if (inflater_) {
        const std::size_t before = decoded_.size();
        switch (inflater_->feed(piece, decoded_)) {
            case InflateStatus::ok: break;
            case InflateStatus::too_large: return skip(SkipReason::too_large);
            case InflateStatus::corrupt: return skip(SkipReason::bad_gzip);
        }
        text = std::string_view(decoded_).substr(before);
    }
    // A gzip body's text is only known whole once the stream ends, which finish() checks first.
    if (!validator_.feed(text, last && !inflater_)) return skip(SkipReason::invalid_json);
    return Feed::buffering;
}

std::string BodyRewriter::take_buffered() { return std::exchange(encoded_, std::string()); }

BodyRewriter::Result BodyRewriter::finish() {
    Result result;
    auto original = [&](std::optional<SkipReason> reason) {
        if (reason && !skipped_) skipped_ = reason;
        result.skipped = skipped_;
        result.body = take_buffered();
        return std::move(result);
    };
    if (skipped_) return original(skipped_);
    if (encoded_.empty()) return original(std::nullopt);
    if (inflater_ && inflater_->finish() != InflateStatus::ok) return original(SkipReason::bad_gzip);
    if (!validator_.finish()) return original(SkipReason::invalid_json);

    const std::string_view text = inflater_ ? std::string_view(decoded_) : std::string_view(encoded_);
    std::string rewritten;
    if (rewrite_json_links(text, links_, rewritten, JsonCheck::already_validated) !=
        LinkRewrite::rewritten) {
        return original(std::nullopt);
    }
    result.changed = true;
    // Level 1: the page is re-compressed on the request path; for JSON it costs a fraction of
    // the default level's CPU for a body a few per cent larger (bench/README.md, rewriting).
    result.body = inflater_ ? gzip_compress(rewritten, 1) : std::move(rewritten);
    encoded_ = std::string();
    decoded_ = std::string();
    return result;
}

}  // namespace giosg::relay
