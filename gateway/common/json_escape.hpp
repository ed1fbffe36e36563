#pragma once
// JSON string escaping for everything the gateway writes by hand: audit records and
// gateway-made error bodies. No JSON library on the request path.
#include <string>
#include <string_view>

namespace giosg {

/// Appends `text` JSON-escaped (without quotes). Bytes >= 0x80 that are not valid UTF-8 are
/// written as \u00XX so that every line stays valid JSON whatever a client sent.
void append_json_escaped(std::string_view text, std::string& out);

}  // namespace giosg
