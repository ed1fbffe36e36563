#include "audit/policy_change_record.hpp"

#include "audit/record.hpp"
#include "common/json_escape.hpp"

namespace giosg {

namespace {

void append_string(std::string_view s, std::string& out) {
    out.push_back('"');
    append_json_escaped(s, out);
    out.push_back('"');
}

void append_list(const std::vector<std::string>& names, std::string& out) {
    out.push_back('[');
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0) out.push_back(',');
        append_string(names[i], out);
    }
    out.push_back(']');
}

}  // namespace

void append_policy_change_json(const PolicyChange& change, std::chrono::system_clock::time_point ts, std::string& out) {
    out.append("{\"kind\":\"policy_change\",\"ts\":\"");
    append_rfc3339_ms(ts, out);
    out.append("\",\"change\":\"");
    out.push_back(change.change);
    out.append("\",\"pattern\":");
    append_string(change.pattern, out);
    out.append(",\"method\":");
    append_string(change.method, out);
    out.append(",\"scopes\":");
    if (change.scopes) append_list(*change.scopes, out);
    else out.append("null");
    if (change.change == '~') {
        out.append(",\"previous_scopes\":");
        append_list(change.previous_scopes, out);
    }
    out.append(change.applied ? ",\"applied\":true}\n" : ",\"applied\":false}\n");
}

}  // namespace giosg
