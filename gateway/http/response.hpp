#pragma once
// Writing HTTP/1.1 message heads: one copy for the request head sent upstream (forward.cpp) and
// the responses the gateway makes itself (the admin listener; the proxy session is to adopt it).
// Pure: no Asio, no I/O.
#include <string>
#include <string_view>

namespace giosg::http {

/// Appends `HTTP/1.1 <status> <phrase>` and CRLF.
void append_status_line(std::string& out, int status, std::string_view phrase);

/// Appends `<name>: <value>` and CRLF. The caller guarantees both are free of CR, LF and NUL
/// (a name and value parsed by parse_request_head or parse_response_head are).
void append_field(std::string& out, std::string_view name, std::string_view value);

}  // namespace giosg::http
