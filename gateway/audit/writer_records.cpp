#include "audit/writer_records.hpp"

#include <chrono>

#include "audit/record.hpp"
#include "audit/signing.hpp"
#include "common/format.hpp"

namespace giosg::audit {

namespace {

void append_ts_field(std::string& out) {
    out.append("\"ts\":\"");
    append_rfc3339_ms(std::chrono::system_clock::now(), out);
    out.push_back('"');
}

}  // namespace

std::string rotation_fields(std::string_view reason, std::string_view previous_file, std::uint64_t previous_bytes,
                            std::uint64_t torn_bytes) {
    std::string fields = "\"kind\":\"rotation\",";
    append_ts_field(fields);
    fields.append(",\"reason\":\"").append(reason).append("\",\"previous_file\":\"");
    append_json_escaped(previous_file, fields);
    fields.append("\",\"previous_bytes\":");
    append_uint(fields, previous_bytes);
    fields.append(",\"torn_bytes\":");
    append_uint(fields, torn_bytes);
    return fields;
}

std::string checkpoint_fields(const SigningKey& signer, const ChainState& chain, std::string_view reason) {
    std::string ts;
    append_rfc3339_ms(std::chrono::system_clock::now(), ts);
    const auto signature = signer.sign_hex(checkpoint_message(chain.seq + 1, chain.last_hash_view(), ts));
    std::string fields = "\"kind\":\"checkpoint\",\"ts\":\"";
    fields.append(ts).append("\",\"reason\":\"").append(reason);
    fields.append("\",\"key_id\":\"").append(signer.key_id());
    fields.append("\",\"sig\":\"").append(signature).append("\"");
    return fields;
}

std::string gap_fields(std::uint64_t dropped) {
    std::string fields = "\"kind\":\"gap\",";
    append_ts_field(fields);
    fields.append(",\"dropped\":");
    append_uint(fields, dropped);
    return fields;
}

std::string backlog_fields(std::uint64_t refused, std::chrono::system_clock::time_point from,
                           std::chrono::system_clock::time_point to) {
    std::string fields = "\"kind\":\"backlog\",";
    append_ts_field(fields);
    fields.append(",\"refused\":");
    append_uint(fields, refused);
    fields.append(",\"from\":\"");
    append_rfc3339_ms(from, fields);
    fields.append("\",\"to\":\"");
    append_rfc3339_ms(to, fields);
    fields.push_back('"');
    return fields;
}

}  // namespace giosg::audit
