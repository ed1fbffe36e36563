#include "http/response.hpp"

#include "common/format.hpp"

namespace giosg::http {

void append_status_line(std::string& out, int status, std::string_view phrase) {
    out.append("HTTP/1.1 ");
    append_uint(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(phrase).append("\r\n");
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace giosg::http
