#include "server/worker.hpp"

#include <boost/asio/post.hpp>

namespace giosg::server {

Worker::Worker(std::size_t index_, std::shared_ptr<const Snapshot> snapshot_, asio::ssl::context* tls,
               AuditWriter& audit_, MetricsShard& metrics_)
    : index(index_),
      snapshot(std::move(snapshot_)),
      pool(ioc.get_executor(), snapshot->config->upstream, tls,
           upstream::Pool::Options{.max_idle = snapshot->config->upstream.max_idle_connections,
                                   .stats = &metrics_.upstream_pool}),
      audit(audit_),
      audit_ring(audit_.add_producer()),
      metrics(metrics_) {
    const auto& rate_limits = snapshot->config->rate_limits;
    if (rate_limits.store == RateLimitsConfig::Store::redis) {
        rate_store = std::make_unique<limits::RedisStore>(ioc, rate_limits, "worker " + std::to_string(index));
        rate_store->start();
    }
    // Called on the writer's thread only while a session here waits for room: hop onto this one.
    audit_ring.set_room_callback([this] { asio::post(ioc, [this] { wake_audit_room_waiters(); }); });
    if (audit.fsync_mode() == AuditWriter::Fsync::always) {
        // Called on the writer's thread: hop onto this worker's.
        audit_ring.set_progress_callback([this] { asio::post(ioc, [this] { wake_audit_waiters(); }); });
    }
}

Worker::~Worker() {
    audit_ring.set_progress_callback({});
    audit_ring.set_room_callback({});
}

void Worker::wake_audit_room_waiters() {
    // Each woken session removes itself and, still without room, registers again.
    for (auto* timer : audit_room_waiters) timer->cancel();
}

void Worker::wake_audit_waiters() {
    const auto durable = audit_ring.durable();
    while (!audit_waiters.empty() && audit_waiters.front().ticket <= durable) {
        *audit_waiters.front().durable = true;
        audit_waiters.front().timer->cancel();
        audit_waiters.pop_front();
    }
    if (!audit.healthy()) {
        for (auto& waiter : audit_waiters) waiter.timer->cancel();  // *durable stays false
        audit_waiters.clear();
    }
}

}  // namespace giosg::server
