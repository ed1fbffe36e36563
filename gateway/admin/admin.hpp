#pragma once
// The admin listener (CONTRACT §5): /healthz, /readyz, /metrics on a separate address and
// thread, so probes and scrapes never queue behind client traffic.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "admin/metrics.hpp"
#include "config/config.hpp"

namespace giosg {

class AdminServer {
public:
    /// The reasons not to send traffic now; none: ready. Answers /readyz (called on the admin
    /// thread; must be thread-safe).
    using NotReadyReasons = std::function<std::vector<std::string>()>;
    AdminServer(const HostPort& listen, Metrics& metrics, NotReadyReasons not_ready);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    void start();  // binds (throws std::system_error) and starts the thread
    void stop();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

}  // namespace giosg
