#pragma once
// Counters of one worker's upstream connection pool, kept apart from the pool so that the metrics
// code can read them without Asio. Written only by the pool's worker, read by the admin listener.
#include <atomic>
#include <cstdint>

namespace giosg::upstream {

struct PoolStats {
    std::atomic<std::uint64_t> opened{0};         // connection attempts (resolve + connect + TLS)
    std::atomic<std::uint64_t> idle_overflow{0};  // released connections closed because the idle pool was full
};

}  // namespace giosg::upstream
