#include "redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace giosg::testing {
namespace {

bool accepts_connections(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("free_port: cannot bind");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

RedisServer::RedisServer(std::uint16_t port) : port_(port == 0 ? free_port() : port) { spawn(); }

RedisServer::~RedisServer() { kill(); }

void RedisServer::spawn() {
    std::string bin = "redis-server", port_flag = "--port", port = std::to_string(port_), bind_flag = "--bind",
                bind = "127.0.0.1", save_flag = "--save", save = "", aof_flag = "--appendonly", aof = "no",
                log_flag = "--logfile", log = "/dev/null";
    char* argv[] = {bin.data(),      port_flag.data(), port.data(), bind_flag.data(), bind.data(),
                    save_flag.data(), save.data(),      aof_flag.data(), aof.data(),    log_flag.data(),
                    log.data(),       nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, bin.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start redis-server (is it installed? deploy/dev.sh installs it)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!accepts_connections(port_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited at start (port " + std::to_string(port_) + " taken?)");
        }
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not start in 5 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void RedisServer::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a paused one must be able to die
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void RedisServer::restart() {
    kill();
    spawn();
}

bool RedisServer::command(const std::string& words) const {
    const std::string line = "redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + words + " >/dev/null 2>&1";
    return std::system(line.c_str()) == 0;
}

void RedisServer::pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
}

}  // namespace giosg::testing
