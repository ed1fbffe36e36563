// The record stage (docs/audit.md): one audit record per request, whatever its outcome, and
// the request's metrics. Room for the record is reserved before the request is forwarded or
// refused; under audit.fsync "always" the response waits until its record is on disk; otherwise
// the record follows the response.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "audit/record.hpp"
#include "server/session.hpp"

namespace giosg::server {

using net::use_nothrow;

namespace {
constexpr std::size_t kAuditLineReserve = 512;    // a typical record is 300-450 bytes
}  // namespace

asio::awaitable<bool> Session::reserve_audit_room(Exchange& ex) {
    AuditRing& ring = worker_.audit_ring;
    const auto& config = ex.snapshot->config->audit;  // pinned: a reload cannot free it meanwhile
    // Under "always" a second one, for the correction a response refused at the last moment needs.
    const std::uint8_t wanted = config.fsync == AuditConfig::Fsync::always ? 2 : 1;
    const auto reserve = [&] {
        while (ex.audit_room < wanted && ring.try_reserve()) ++ex.audit_room;
        return ex.audit_room == wanted;
    };
    if (reserve()) co_return true;
    // "allow" goes on without room; its record is dropped if there is still none at the end.
    if (config.on_failure == AuditConfig::OnFailure::allow) co_return true;
    // The writer posts a wake-up to this worker after it drained the ring (Worker's room
    // callback), so a waiter costs nothing until there is room; the timer bounds the wait.
    const auto started = std::chrono::steady_clock::now();
    const auto give_up = started + config.queue_wait;
    bool ok = false;
    while (!closed_) {
        worker_.audit.want_room(ring);  // then try again: room made meanwhile is seen (AuditRing::drain)
        if (reserve()) {
            ok = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= give_up) break;
        audit_wait_.expires_at(give_up);
        worker_.audit_room_waiters.push_back(&audit_wait_);
        co_await audit_wait_.async_wait(use_nothrow);
        std::erase(worker_.audit_room_waiters, &audit_wait_);
    }
    ring.count_wait(std::chrono::steady_clock::now() - started);
    co_return ok;
}

asio::awaitable<bool> Session::refuse_for_backlog(Exchange& ex, bool head_complete) {
    // It reaches nothing; rather than a record each, the writer sums these up in one backlog
    // record once it has room (docs/audit.md "Under load").
    ex.recorded = true;
    worker_.audit_ring.count_refused(ex.ts);
    if (head_complete) {
        ex.method.assign(head_.method);
        ex.version_minor = head_.version_minor;
    }
    // A body not read would be parsed as the next request: then the connection closes.
    const bool keep_alive = head_complete && head_.keep_alive && head_.body == http::BodyKind::none;
    if (head_complete) buffer_.consume(ex.head_bytes);
    co_return co_await respond_error(ex, Reason::audit_unavailable, {}, !keep_alive);
}

asio::awaitable<bool> Session::commit_audit(Exchange& ex) {
    AuditWriter& audit = worker_.audit;
    if (audit.fsync_mode() != AuditWriter::Fsync::always || ex.recorded) co_return true;
    const bool deny = ex.snapshot->config->audit.on_failure == AuditConfig::OnFailure::deny;
    const auto ticket = record_audit(ex);
    if (ticket == 0 || worker_.audit_ring.durable() >= ticket) co_return audit.healthy() || !deny;
    bool durable = false;
    // Bounded like any client write: a disk that hangs must not hold the connection forever.
    audit_wait_.expires_after(ex.snapshot->config->limits.idle_timeout);
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
    record.limit = limits::limit_label(ex.limit);
    audit_line_.clear();
    // The ring hands back its slot's buffer: reused in the slots that keep theirs
    // (AuditRing::kKeptBuffers), else one allocation of a typical record's size.
    audit_line_.reserve(kAuditLineReserve);
    append_audit_json(record, audit_line_);
    return submit_line(ex);
}

std::uint64_t Session::submit_line(Exchange& ex) {
    const bool reserved = ex.audit_room != 0;
    if (reserved) --ex.audit_room;
    return worker_.audit.submit(worker_.audit_ring, audit_line_, reserved);
}

void Session::submit_correction(Exchange& ex) {
    audit_line_.clear();
    append_audit_correction_json(std::chrono::system_clock::now(), ex.id.view(), ex.code, ex.status, ex.bytes_out,
                                 audit_line_);
    submit_line(ex);
}

void Session::finish(Exchange& ex) {
    record_audit(ex);
    for (; ex.audit_room != 0; --ex.audit_room) worker_.audit_ring.release_reservation();
    const double duration_ms = ex.elapsed_ms();
    const ClientConfig* client = ex.identity.client;
    // The request's own snapshot: its client index means nothing in one a reload put in since.
    const std::size_t client_slot = client != nullptr && ex.snapshot
                                        ? ex.snapshot->metric_slot(ex.identity.client_index)
                                        : kUnauthenticatedSlot;
    worker_.metrics.count_request(client_slot, ex.code, ex.method);
    if (ex.upstream_status) worker_.metrics.count_upstream_status(*ex.upstream_status);
    worker_.metrics.request_duration.observe(duration_ms / 1000.0);
    if (body_.capacity() > kKeepBufferBytes) {
        body_.clear();
        body_.shrink_to_fit();
    }
    buffer_.shrink(kKeepBufferBytes);
}

}  // namespace giosg::server
