// The record stage (docs/audit.md): one audit record per request, whatever its outcome, and
// the request's metrics. Under audit.fsync "always" the response waits until its record is on
// disk; otherwise the record follows the response.
#include <spdlog/spdlog.h>

#include "audit/record.hpp"
#include "server/session.hpp"

namespace giosg::server {

using net::use_nothrow;

namespace {
constexpr std::size_t kAuditLineReserve = 512;    // a typical record is 300-450 bytes
}  // namespace

asio::awaitable<bool> Session::commit_audit(Exchange& ex) {
    AuditWriter& audit = worker_.audit;
    if (audit.fsync_mode() != AuditWriter::Fsync::always || ex.recorded) co_return true;
    const bool deny = worker_.snapshot->config->audit.on_failure == AuditConfig::OnFailure::deny;
    const auto ticket = record_audit(ex);
    if (ticket != 0 && ticket <= worker_.audit_ring.lost_through()) co_return !deny;
    if (ticket == 0 || worker_.audit_ring.durable() >= ticket) co_return audit.healthy() || !deny;
    bool durable = false;
    // Bounded like any client write: a disk that hangs must not hold the connection forever.
    audit_wait_.expires_after(worker_.snapshot->config->limits.idle_timeout);
    worker_.audit_waiters.push_back(AuditWaiter{ticket, &audit_wait_, &durable});
    co_await audit_wait_.async_wait(use_nothrow);
    std::erase_if(worker_.audit_waiters, [this](const AuditWaiter& w) { return w.timer == &audit_wait_; });
    // The writer logs the outage once; one line per request here would flood the log.
    if (!durable) spdlog::debug("audit: record of request {} is not on disk yet", ex.id.view());
    co_return durable || !deny;
}

std::uint64_t Session::record_audit(Exchange& ex) {
    if (ex.recorded) return 0;
    ex.recorded = true;
    worker_.request_ids.ensure(ex.id);
    const double duration_ms = ex.elapsed_ms();
    const ClientConfig* client = ex.identity.client;
    AuditRecord record;
    record.ts = ex.ts == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : ex.ts;
    record.request_id = ex.id.view();
    if (client != nullptr) record.client = client->name;
    record.remote = remote_;
    record.method = ex.method;
    record.path = ex.path;
    if (ex.decision.endpoint != nullptr) record.pattern = ex.decision.endpoint->pattern;
    record.allowed = ex.forwarded;
    record.code = ex.code;
    record.status = ex.status;
    record.upstream_status = ex.upstream_status;
    record.bytes_in = ex.bytes_in;
    record.bytes_out = ex.bytes_out;
    record.duration_ms = duration_ms;
    record.upstream_ms = ex.upstream_ms;
    record.dropped_headers = ex.dropped_headers;
    record.identity_kind = identity_label(ex.identity);
    record.identity_id = ex.identity.key_id;
    record.auth_error = ex.identity.auth_error;
    audit_line_.clear();
    // The ring hands back its slot's buffer, empty until the ring has wrapped once: one
    // allocation of a typical record's size instead of one per doubling.
    audit_line_.reserve(kAuditLineReserve);
    append_audit_json(record, audit_line_);
    return worker_.audit.submit(worker_.audit_ring, audit_line_);
}

void Session::submit_correction(Exchange& ex) {
    audit_line_.clear();
    append_audit_correction_json(std::chrono::system_clock::now(), ex.id.view(), ex.code, ex.status, ex.bytes_out,
                                 audit_line_);
    worker_.audit.submit(worker_.audit_ring, audit_line_);
}

void Session::finish(Exchange& ex) {
    record_audit(ex);
    const double duration_ms = ex.elapsed_ms();
    const ClientConfig* client = ex.identity.client;
    // Unauthenticated requests count under the slot after the last client.
    const std::size_t client_slot =
        client != nullptr ? ex.identity.client_index : worker_.snapshot->clients->clients().size();
    worker_.metrics.count_request(client_slot, ex.code, ex.method);
    worker_.metrics.request_duration.observe(duration_ms / 1000.0);
    if (body_.capacity() > kKeepBufferBytes) {
        body_.clear();
        body_.shrink_to_fit();
    }
    buffer_.shrink(kKeepBufferBytes);
}

}  // namespace giosg::server
