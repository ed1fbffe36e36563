// "audit": the audit trail's file, durability, rotation, signing and its optional syslog copy.
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMinRotateBytes = 4096;  // below this a file holds a handful of records
constexpr std::int64_t kMaxRotateBytes = 1LL << 40;
constexpr std::int64_t kMaxKeepFiles = 100000;
constexpr std::int64_t kMaxSyslogQueue = 1000000;
constexpr std::int64_t kMinQueueBytes = 16384;     // a handful of records per worker
constexpr std::int64_t kMaxQueueBytes = 1LL << 32;
constexpr std::int64_t kMaxQueueWaitMs = 10000;    // a client waits this long at most for room

void read_syslog(const json::value& value, std::string path_text, Config& config, ErrorList& errors) {
    auto syslog = ObjectReader::open(value, std::move(path_text), errors);
    if (!syslog) return;
    SyslogConfig result;
    if (auto text = syslog->string("address", Need::required)) {
        if (auto address = host_port(*syslog, "address", *text)) {
            if (address->port == 0) syslog->error("address", "needs a port");
            result.address = std::move(*address);
        }
    }
    if (auto tls = syslog->boolean("tls")) result.tls = *tls;
    result.ca_file = read_path(*syslog, "ca_file", config.base_dir, Need::optional, true);
    if (auto facility = syslog->integer("facility", 0, 23)) result.facility = static_cast<int>(*facility);
    if (auto queue = syslog->integer("queue", 1, kMaxSyslogQueue)) result.queue = static_cast<std::size_t>(*queue);
    syslog->reject_unknown_keys();
    config.audit.syslog = std::move(result);
}

}  // namespace

void read_audit(ObjectReader& top, Config& config) {
    // The default path is relative too, so it is resolved even when the section is absent.
    config.audit.path = resolve_path(config.audit.path, config.base_dir);
    auto audit = top.object("audit");
    if (!audit) return;
    if (auto configured = audit->string("path")) {
        if (*configured == "-") {
            config.audit.to_stdout = true;
            config.audit.path = "-";
        } else if (auto resolved = checked_path(*audit, "path", *configured, config.base_dir)) {
            config.audit.path = std::move(*resolved);
        }
    }
    AuditConfig& result = config.audit;
    if (auto mode = audit->choice("fsync", {"always", "batch", "never"}))
        result.fsync = static_cast<AuditConfig::Fsync>(*mode);
    if (auto ms = audit->integer("fsync_ms", 1, kMaxTimeoutMs)) result.fsync_interval = std::chrono::milliseconds(*ms);
    if (auto bytes = audit->integer("rotate_bytes", 0, kMaxRotateBytes)) {
        if (*bytes != 0 && *bytes < kMinRotateBytes)
            audit->error("rotate_bytes", "must be 0 (no size rotation) or at least " + std::to_string(kMinRotateBytes));
        else
            result.rotate_bytes = static_cast<std::uint64_t>(*bytes);
    }
    if (auto keep = audit->integer("keep", 0, kMaxKeepFiles)) result.keep = static_cast<unsigned>(*keep);
    if (auto policy = audit->choice("on_failure", {"deny", "allow"}))
        result.on_failure = static_cast<AuditConfig::OnFailure>(*policy);
    result.signing_key_file = read_path(*audit, "signing_key_file", config.base_dir, Need::optional, true);
    if (auto seconds = audit->integer("checkpoint_s", 1, kMaxRefreshS))
        result.checkpoint_interval = std::chrono::seconds(*seconds);
    if (auto bytes = audit->integer("queue_bytes", kMinQueueBytes, kMaxQueueBytes))
        result.queue_bytes = static_cast<std::size_t>(*bytes);
    if (auto ms = audit->integer("queue_wait_ms", 0, kMaxQueueWaitMs)) result.queue_wait = std::chrono::milliseconds(*ms);
    if (const json::value* syslog = audit->get("syslog"); syslog != nullptr && !syslog->is_null())
        read_syslog(*syslog, audit->path_of("syslog"), config, audit->errors());
    audit->reject_unknown_keys();
}

}  // namespace giosg::config_detail
