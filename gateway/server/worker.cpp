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
    if (audit.fsync_mode() == AuditWriter::Fsync::always) {
        // Called on the writer's thread: hop onto this worker's.
        audit_ring.set_progress_callback([this] { asio::post(ioc, [this] { wake_audit_waiters(); }); });
    }
}

Worker::~Worker() { audit_ring.set_progress_callback({}); }

void Worker::wake_audit_waiters() {
    const auto durable = audit_ring.durable();
    const auto lost = audit_ring.lost_through();  // dropped records are counted, not written
    while (!audit_waiters.empty() && audit_waiters.front().ticket <= durable) {
        *audit_waiters.front().durable = audit_waiters.front().ticket > lost;
        audit_waiters.front().timer->cancel();
        audit_waiters.pop_front();
    }
    if (!audit.healthy()) {
        for (auto& waiter : audit_waiters) waiter.timer->cancel();  // *durable stays false
        audit_waiters.clear();
    }
}

}  // namespace giosg::server
