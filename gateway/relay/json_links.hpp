#pragma once
// The JSON half of docs/reference.md §6: giosg's list responses carry absolute `next`/`previous` page
// links at the top level of the body. They are rewritten in place, splicing new string values
// into the original text, so that every other byte (numbers, escapes, whitespace, key order)
// reaches the client exactly as giosg sent it.
#include <memory>
#include <string>
#include <string_view>

#include "relay/link_rewrite.hpp"

namespace giosg::relay {

/// Incremental well-formedness check (RFC 8259; strings must be valid UTF-8; no comments, no
/// trailing commas; nesting up to 10000 levels) that builds no document, so a large body costs
/// no memory beyond its own text.
class JsonValidator {
public:
    JsonValidator();
    ~JsonValidator();
    JsonValidator(const JsonValidator&) = delete;
    JsonValidator& operator=(const JsonValidator&) = delete;

    /// Feeds the next piece of the text; false once it can no longer be valid (then stays false).
    /// `last`: the text ends with this piece, and feed does what finish() does. A body that
    /// arrives whole is then checked in one pass, without the parser saving its state for more
    /// (which would allocate its stack).
    bool feed(std::string_view piece, bool last = false);
    /// True when everything fed was exactly one JSON value (surrounding whitespace allowed).
    /// Nothing may be fed after it (or after a `last` piece).
    bool finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// One-shot JsonValidator.
bool is_valid_json(std::string_view text);

enum class LinkRewrite { unchanged, rewritten, invalid_json };
enum class JsonCheck { validate, already_validated };

/// When `body` is valid JSON whose top-level value is an object, rewrites the string values of
/// its `next` and `previous` members with `links.rewrite` (upstream origin to public origin) and,
/// only when one of them changed, appends the whole new body to `out` and returns rewritten.
/// Otherwise `out` is left alone: unchanged (nothing to rewrite: not an object, no such member,
/// null or another non-string value, a link elsewhere) or invalid_json.
/// Details:
/// - Only members of the top-level object count; `next` in a nested object is data.
/// - Keys are compared after JSON unescaping, so "n\u0065xt" is `next` (a client's JSON parser
///   reads it so and would follow it). Every member of that name is rewritten, duplicates too.
/// - The value is decoded (\/, \uXXXX with surrogate pairs, …) before rewrite_link; a new value
///   is written with only the escapes JSON requires (", \ and control characters; '/' and
///   non-ASCII bytes raw). A value holding a lone surrogate escape is left as it is.
/// - `already_validated` skips the check for a caller that ran a JsonValidator over the same
///   text; the scanner relies on the text being valid JSON.
LinkRewrite rewrite_json_links(std::string_view body, LinkContext& links, std::string& out,
                               JsonCheck check = JsonCheck::validate);

}  // namespace giosg::relay
