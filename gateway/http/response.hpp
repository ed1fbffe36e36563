#pragma once
// Writing response heads: the pieces every response the gateway sends is made of (relayed
// answers, gateway-made errors, the admin listener's). No Asio.
#include <string>
#include <string_view>

namespace giosg::http {

/// "HTTP/1.1 <status> <phrase>\r\n".
void append_status_line(std::string& out, int status, std::string_view phrase);

/// "<name>: <value>\r\n".
void append_field(std::string& out, std::string_view name, std::string_view value);

/// The Connection field a response needs: "close" when the connection ends after it; for an
/// HTTP/1.0 client that stays, "keep-alive" (1.0 closes by default); else nothing.
void append_connection(std::string& out, bool close, int version_minor);

}  // namespace giosg::http
