#pragma once
// The unix socket listener (docs/reference.md §7, `listen: "unix:PATH"`): the socket file made
// with its mode before anyone can connect, a stale file left by a dead gateway replaced, and the
// peer's uid read from the kernel (SO_PEERCRED) as the caller's identity.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "config/config.hpp"

namespace giosg::net {

class UnixListener {
public:
    /// Binds and listens at `config.path` with `config.mode`. An existing socket file that no
    /// process listens on is replaced; anything else there (a listening socket, a file that is
    /// not a socket) is an error. Throws std::runtime_error "/listen: …".
    explicit UnixListener(const UnixListen& config);
    /// Closes the socket and removes the file, unless another process has replaced it since.
    ~UnixListener();
    UnixListener(const UnixListener&) = delete;
    UnixListener& operator=(const UnixListener&) = delete;

    /// The listening descriptor; each worker accepts on a dup() of it.
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t inode_ = 0;  // of the file this listener made
};

/// The uid of the process at the other end of a connected unix socket; nullopt when the kernel
/// cannot say.
std::optional<std::uint32_t> peer_uid(int fd) noexcept;

}  // namespace giosg::net
