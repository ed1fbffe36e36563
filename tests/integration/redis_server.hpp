#pragma once
// A real redis-server for the shared-store tests: started on a free loopback port with no
// persistence, stopped, paused and killed by its own pid only.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace giosg::testing {

class RedisServer {
public:
    /// Starts redis-server on `port` (0: a free one) and waits until it accepts connections.
    explicit RedisServer(std::uint16_t port = 0);
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    /// SIGKILL and wait: Redis is gone, its port refuses connections.
    void kill();
    /// Starts it again on the same port (after kill()).
    void restart();
    /// SIGSTOP / SIGCONT: connected but silent, like a Redis stuck in a long command.
    void pause();
    void resume();
    /// Runs one command through redis-cli (e.g. "SCRIPT FLUSH"); true when it exits 0.
    bool command(const std::string& words) const;

private:
    void spawn();
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

/// A port no one listens on right now (bound, read and closed).
std::uint16_t free_port();

}  // namespace giosg::testing
