#include "audit/record.hpp"

#include <charconv>
#include <ctime>

#include "common/format.hpp"
#include "common/hex.hpp"

namespace giosg {

namespace {
void append_ms(double ms, std::string& out) {
    // Three decimals are enough for a millisecond figure and keep lines short.
    char buf[40];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
    out.append(buf, end);
}

void append_string(std::string_view s, std::string& out) {
    out.push_back('"');
    append_json_escaped(s, out);
    out.push_back('"');
}

void append_optional_string(const std::optional<std::string_view>& s, std::string& out) {
    if (s) append_string(*s, out);
    else out.append("null");
}

}  // namespace

void append_rfc3339_ms(std::chrono::system_clock::time_point tp, std::string& out) {
    // Per request: no gmtime_r (it takes glibc's time-zone lock) and no printf.
    using namespace std::chrono;
    const auto ms_total = duration_cast<milliseconds>(tp.time_since_epoch());
    const auto day = floor<days>(ms_total);
    const year_month_day date{sys_days(day)};
    const auto in_day = ms_total - day;
    const auto hour = static_cast<unsigned>(duration_cast<hours>(in_day).count());
    const auto minute = static_cast<unsigned>(duration_cast<minutes>(in_day).count() % 60);
    const auto second = static_cast<unsigned>(duration_cast<seconds>(in_day).count() % 60);
    const auto milli = static_cast<unsigned>(in_day.count() % 1000);
    char buf[] = "0000-00-00T00:00:00.000Z";
    auto put = [&buf](std::size_t at, unsigned value, int digits) {
        for (int i = digits - 1; i >= 0; --i, value /= 10) buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    put(0, static_cast<unsigned>(static_cast<int>(date.year())) % 10000, 4);
    put(5, static_cast<unsigned>(date.month()), 2);
    put(8, static_cast<unsigned>(date.day()), 2);
    put(11, hour, 2);
    put(14, minute, 2);
    put(17, second, 2);
    put(20, milli, 3);
    out.append(buf, sizeof buf - 1);
}

void append_audit_json(const AuditRecord& r, std::string& out) {
    out.append("{\"ts\":\"");
    append_rfc3339_ms(r.ts, out);
    out.append("\",\"request_id\":");
    append_string(r.request_id, out);
    out.append(",\"client\":");
    append_optional_string(r.client, out);
    out.append(",\"remote\":");
    append_string(r.remote, out);
    out.append(",\"method\":");
    append_string(r.method, out);
    out.append(",\"path\":");
    append_string(r.path, out);
    out.append(",\"pattern\":");
    append_optional_string(r.pattern, out);
    out.append(r.allowed ? ",\"decision\":\"allow\"" : ",\"decision\":\"deny\"");
    out.append(",\"code\":");
    append_string(reason_code(r.code), out);
    out.append(",\"status\":");
    append_uint(out, static_cast<std::uint64_t>(r.status));
    out.append(",\"upstream_status\":");
    if (r.upstream_status) append_uint(out, static_cast<std::uint64_t>(*r.upstream_status));
    else out.append("null");
    out.append(",\"bytes_in\":");
    append_uint(out, r.bytes_in);
    out.append(",\"bytes_out\":");
    append_uint(out, r.bytes_out);
    out.append(",\"duration_ms\":");
    append_ms(r.duration_ms, out);
    out.append(",\"upstream_ms\":");
    if (r.upstream_ms) append_ms(*r.upstream_ms, out);
    else out.append("null");
    if (r.dropped_headers > 0) {
        out.append(",\"dropped_headers\":");
        append_uint(out, r.dropped_headers);
    }
    if (!r.identity_kind.empty()) {
        out.append(",\"identity\":\"");
        append_json_escaped(r.identity_kind, out);
        if (!r.identity_id.empty()) {
            out.push_back(':');
            append_json_escaped(r.identity_id, out);
        }
        out.push_back('"');
    }
    if (!r.limit.empty()) {
        out.append(",\"limit\":");
        append_string(r.limit, out);
    }
    if (!r.auth_error.empty()) {
        out.append(",\"auth_error\":");
        append_string(r.auth_error, out);
    }
    out.append("}\n");
}

void append_audit_correction_json(std::chrono::system_clock::time_point ts, std::string_view request_id,
                                  Reason code, int status, std::uint64_t bytes_out, std::string& out) {
    out.append("{\"kind\":\"correction\",\"ts\":\"");
    append_rfc3339_ms(ts, out);
    out.append("\",\"request_id\":");
    append_string(request_id, out);
    out.append(",\"code\":");
    append_string(reason_code(code), out);
    out.append(",\"status\":");
    append_uint(out, static_cast<std::uint64_t>(status));
    out.append(",\"bytes_out\":");
    append_uint(out, bytes_out);
    out.append("}\n");
}

}  // namespace giosg
