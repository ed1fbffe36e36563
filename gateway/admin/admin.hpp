#pragma once
// The admin listener (docs/reference.md §5): /healthz, /readyz, /metrics and POST /reload on a
// separate address and thread, so probes and scrapes never queue behind client traffic.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/metrics.hpp"
#include "common/sha256.hpp"
#include "config/config.hpp"

namespace giosg {

/// What a reload answered, for POST /reload.
struct AdminReloadResult {
    bool ok = false;
    std::string config_sha256;
    std::vector<std::string> errors;    // "/json/path: problem"
    std::vector<std::string> warnings;  // settings kept until a restart, and the like
};

struct AdminHooks {
    /// Why the gateway is not ready (empty: ready). Called on the admin thread; thread-safe.
    std::function<std::vector<std::string>()> not_ready;
    /// Starts a reload and calls `done` exactly once with its result, from any thread. Null: no
    /// /reload (404).
    std::function<void(std::function<void(AdminReloadResult)> done)> reload;
};

class AdminServer {
public:
    AdminServer(const HostPort& listen, Metrics& metrics, AdminHooks hooks);
    /// Only /readyz's yes or no (tests).
    AdminServer(const HostPort& listen, Metrics& metrics, std::function<bool()> ready);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    void start();  // binds (throws std::system_error) and starts the thread
    void stop();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

    /// The admin token's SHA-256 (admin_token_sha256); set, every path but /healthz and /readyz
    /// needs "Authorization: Bearer <token>". Thread-safe; takes effect for the next request.
    void set_token(std::optional<KeyDigest> digest);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

}  // namespace giosg
