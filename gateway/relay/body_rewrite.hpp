#pragma once
// The buffered body rewriter of docs/reference.md §6 that the relay stage feeds a JSON response body
// through: bounded, gzip-aware, and passing the original bytes on whenever it does not rewrite.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "relay/gzip.hpp"
#include "relay/json_links.hpp"
#include "relay/link_rewrite.hpp"

namespace giosg::relay {

/// limits.max_rewrite_bytes default.
inline constexpr std::size_t kDefaultMaxRewriteBytes = 8u * 1024 * 1024;

/// `application/json` or any `…+json` type (application/problem+json, application/vnd.x+json),
/// with or without parameters, case-insensitive, surrounding whitespace allowed.
bool is_json_media_type(std::string_view content_type) noexcept;

enum class ContentCoding { identity, gzip };

/// The Content-Encoding values the rewriter takes: absent, empty or "identity" → identity;
/// "gzip" or "x-gzip" → gzip (any case, surrounding whitespace allowed). nullopt for anything
/// else (br, deflate, a list of codings): such a body is streamed unchanged.
std::optional<ContentCoding> parse_content_coding(std::optional<std::string_view> content_encoding) noexcept;

/// Why a JSON body was passed unchanged, for giosg_gateway_rewrite_skipped_total{reason}.
/// BodyRewriter reports the first three; unsupported_encoding is for the caller that met a
/// coding parse_content_coding refused.
enum class SkipReason { too_large, invalid_json, bad_gzip, unsupported_encoding };

/// The metric label: "too_large", "invalid_json", "bad_gzip", "unsupported_encoding".
std::string_view skip_reason_label(SkipReason reason) noexcept;

class BodyRewriter {
public:
    /// `max_rewrite_bytes` bounds both the encoded bytes buffered and the decoded (inflated) size.
    /// `links` is referred to, not copied, and must outlive the rewriter; its public origin is
    /// only asked for when the body has a link to rewrite.
    BodyRewriter(ContentCoding coding, LinkContext& links, std::size_t max_rewrite_bytes = kDefaultMaxRewriteBytes);
    // A temporary context would dangle as soon as the constructor returns.
    BodyRewriter(ContentCoding, LinkContext&&, std::size_t = 0) = delete;

    enum class Feed { buffering, skip };

    /// Buffers the next piece of the body as received (still content-coded). skip means the
    /// rewriter gave up (skip_reason() says why: too_large, invalid_json, bad_gzip, found as early
    /// as possible): the caller sends take_buffered() (every byte fed so far, this piece included,
    /// so up to one piece over the bound), then streams the rest of the body unchanged without
    /// feeding it here. After a skip, feed does nothing and returns skip.
    /// `last`: the body ends with this piece (finish() still follows); an uncompressed body that
    /// arrived whole is then validated in one pass.
    Feed feed(std::string_view piece, bool last = false);

    std::optional<SkipReason> skip_reason() const noexcept { return skipped_; }

    /// The original bytes fed and not yet taken; empties the buffer.
    std::string take_buffered();

    struct Result {
        std::string body;  // what to send: the rewritten body (re-gzipped when it came gzipped),
                           // else the original bytes exactly as fed (minus any already taken)
        bool changed = false;
        std::optional<SkipReason> skipped;  // why not rewritten, when the body was not usable
    };

    /// The body ended. changed: `next`/`previous` links were rewritten and `body` is the new
    /// body (the caller corrects Content-Length and drops ETag/Content-MD5). Otherwise `body` is
    /// the original: nothing to rewrite (skipped empty), or skipped says why (invalid_json for a
    /// body that ended early or is not JSON, bad_gzip for a truncated gzip stream). An empty
    /// body is simply unchanged.
    Result finish();

private:
    Feed skip(SkipReason reason);

    ContentCoding coding_;
    LinkContext& links_;
    std::size_t max_bytes_;
    std::string encoded_;  // as received
    std::string decoded_;  // gzip only: the inflated text (identity uses encoded_)
    std::optional<GzipInflater> inflater_;
    JsonValidator validator_;
    std::optional<SkipReason> skipped_;
};

}  // namespace giosg::relay
