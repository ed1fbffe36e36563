#pragma once
// One worker: a thread with its own io_context, SO_REUSEPORT acceptor, upstream pool, audit ring
// and metrics shard. Nothing in here is shared with another worker except the immutable
// snapshot and the audit writer's ring (single-producer).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

#include "admin/metrics.hpp"
#include "audit/writer.hpp"
#include "http/request_id.hpp"
#include "identity/jwt_cache.hpp"
#include "limits/redis_store.hpp"
#include "server/parked.hpp"
#include "server/snapshot.hpp"
#include "upstream/connection.hpp"

namespace giosg::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Session;

/// A response held back until its audit record is on disk (audit.fsync "always").
struct AuditWaiter {
    std::uint64_t ticket = 0;
    asio::steady_timer* timer = nullptr;  // cancelled to wake the session
    bool* durable = nullptr;              // set before the wake: true on disk, false writer failing
};

struct Worker {
    Worker(std::size_t index, std::shared_ptr<const Snapshot> snapshot, asio::ssl::context* tls,
           AuditWriter& audit, MetricsShard& metrics);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// On this worker's thread, after the audit writer reported progress: wakes the waiters whose
    /// records are durable, and all of them while the writer is failing.
    void wake_audit_waiters();
    /// On this worker's thread, after the writer drained its ring: wakes the sessions waiting for
    /// room for their audit records (server/record_stage.cpp); each tries again.
    void wake_audit_room_waiters();

    std::size_t index;
    // Declared before ioc: sessions still alive when ioc is destroyed unregister from it then.
    std::unordered_set<Session*> sessions;      // for draining: idle ones are closed at once
    // One thread runs it and every socket and timer lives on that thread, so per-descriptor
    // locking is switched off; posts from other threads (snapshot, audit progress) stay safe.
    asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    tcp::acceptor acceptor{ioc};
    asio::local::stream_protocol::acceptor unix_acceptor{ioc};  // on a dup() of the one unix listener
    std::shared_ptr<const Snapshot> snapshot;   // replaced only on this worker's thread
    upstream::Pool pool;
    AuditWriter& audit;
    AuditRing& audit_ring;
    MetricsShard& metrics;
    http::RequestIdGenerator request_ids;
    JwtCache jwt_cache;                         // verified JWTs (identify), this worker's own
    std::deque<AuditWaiter> audit_waiters;      // ascending tickets; at most one per session
    // rate_limits.store "redis": this worker's connection, and the script calls of the limit
    // state they were built for (rebuilt when a new snapshot brings new limits).
    std::unique_ptr<limits::RedisStore> rate_store;
    std::shared_ptr<const limits::RedisCallTable> rate_calls;
    // Held, not a raw pointer: a freed state's address could come back with another snapshot.
    std::shared_ptr<const limits::LocalLimits> rate_calls_of;
    std::vector<asio::steady_timer*> audit_room_waiters;  // sessions waiting for audit queue room
    ParkedConnections parked{*this};            // idle keep-alive connections without a session
    bool draining = false;

    [[nodiscard]] std::size_t open_connections() const noexcept { return sessions.size() + parked.size(); }
};

}  // namespace giosg::server
