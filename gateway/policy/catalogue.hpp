#pragma once
// giosg's endpoint catalogue (the `GET /api/v5/endpoints` shape): parsing a page and writing a
// snapshot. Parsing happens once per load/refresh. The matcher and the diff come with this header,
// so that a caller that wants the catalogue gets all of it with one include.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/path_error.hpp"
#include "policy/catalogue_entry.hpp"
#include "policy/diff.hpp"
#include "policy/matcher.hpp"

namespace giosg {

/// One page or a whole catalogue: entries in catalogue order plus the page's `next` link.
struct CataloguePage {
    std::vector<CatalogueEntry> entries;
    std::optional<std::string> next;        // absolute URL or null
};

struct CatalogueParseResult {
    std::optional<CataloguePage> page;
    std::vector<PathError> errors;          // JSON paths such as "/results/3/methods/0/name"
};

/// Parses one `{"next":…, "previous":…, "results":[…]}` document. Strict about what the gateway
/// relies on (url_pattern starting with '/', placeholders `<name>` filling a whole segment,
/// method names as upper-case tokens, scopes as strings, no duplicate method in an entry);
/// unknown extra keys are ignored (giosg may add fields). Unknown scope names map to kUnknownScope.
CatalogueParseResult parse_catalogue_page(std::string_view json_text);

/// Serialises entries as one page with next/previous null: the shape `policy fetch` writes and
/// the bundled snapshot uses (pretty-printed, 2-space indent, trailing newline).
std::string serialize_catalogue(const std::vector<CatalogueEntry>& entries);

}  // namespace giosg
