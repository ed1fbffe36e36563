#pragma once
// The listening side: N workers (thread per core), each with its own io_context and an
// SO_REUSEPORT acceptor on the same address, so the kernel spreads connections and no lock is
// taken on the request path.
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "admin/metrics.hpp"
#include "audit/writer.hpp"
#include "server/snapshot.hpp"

namespace boost::asio::ssl {
class context;
}

namespace giosg::net {
class UnixListener;
}

namespace giosg::server {

struct Worker;

class Server {
public:
    /// `workers` 0 means one per CPU core. Creates the audit rings and metric shards it needs.
    Server(std::shared_ptr<const Snapshot> snapshot, AuditWriter& audit, Metrics& metrics, unsigned workers);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds every worker's acceptor (throws std::system_error naming the address on failure) and
    /// starts the worker threads.
    void start();
    /// The bound TCP port (the chosen one when the config says 0); 0 without a TCP listener.
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }

    /// Hands a new snapshot to every worker; requests in flight finish on the old one.
    void publish(std::shared_ptr<const Snapshot> snapshot);

    /// Graceful stop: no new connections, idle keep-alive connections closed, requests in flight
    /// finished within `drain`; then the threads are joined. Idempotent.
    void stop(std::chrono::milliseconds drain);

    /// Number of workers for `requested` (0 = hardware concurrency, at least 1).
    static unsigned resolve_worker_count(unsigned requested) noexcept;

private:
    std::shared_ptr<const Snapshot> snapshot_;
    std::shared_ptr<boost::asio::ssl::context> tls_;  // to the upstream
    AuditWriter& audit_;
    Metrics& metrics_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<net::UnixListener> unix_listener_;  // with listen "unix:PATH"; removes its file
    std::vector<std::thread> threads_;
    std::uint16_t port_ = 0;
    bool stopped_ = false;
};

}  // namespace giosg::server
