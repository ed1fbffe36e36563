#include "net/unix_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/format.hpp"

namespace giosg::net {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
    throw std::runtime_error("/listen: cannot listen on unix:" + path.string() + ": " + why);
}

sockaddr_un address_of(const std::filesystem::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path) fail(path, "the path is too long");
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    return address;
}

// A socket file with nobody behind it is what a gateway that was killed leaves behind.
void check_replaceable(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        fail(path, errno_text(errno));
    }
    if (!S_ISSOCK(st.st_mode)) fail(path, "the path exists and is not a socket");
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) fail(path, errno_text(errno));
    const sockaddr_un address = address_of(path);
    const int connected = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = errno;
    ::close(probe);
    if (connected == 0) fail(path, "another process is listening on it");
    if (error != ECONNREFUSED) fail(path, "cannot tell whether another process listens on it: " + errno_text(error));
}

}  // namespace

UnixListener::UnixListener(const UnixListen& config) : path_(config.path) {
    check_replaceable(path_);
    // Bound under a temporary name, given its mode, listening, and only then renamed into place:
    // nobody can connect before the mode applies, and a stale file is replaced in one step.
    const std::filesystem::path temporary = path_.string() + ".tmp" + std::to_string(::getpid());
    const sockaddr_un address = address_of(temporary);
    ::unlink(temporary.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail(path_, errno_text(errno));
    const auto fail_closing = [&](const std::string& why) {
        ::close(fd_);
        fd_ = -1;
        ::unlink(temporary.c_str());
        fail(path_, why);
    };
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail_closing(errno_text(errno));
    if (::chmod(temporary.c_str(), static_cast<mode_t>(config.mode)) != 0) fail_closing(errno_text(errno));
    if (::listen(fd_, SOMAXCONN) != 0) fail_closing(errno_text(errno));
    if (::rename(temporary.c_str(), path_.c_str()) != 0) fail_closing(errno_text(errno));
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) inode_ = st.st_ino;
}

UnixListener::~UnixListener() {
    if (fd_ >= 0) ::close(fd_);
    struct stat st {};
    if (inode_ != 0 && ::lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_ && S_ISSOCK(st.st_mode))
        ::unlink(path_.c_str());
}

std::optional<std::uint32_t> peer_uid(int fd) noexcept {
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 || size != sizeof credentials)
        return std::nullopt;
    return static_cast<std::uint32_t>(credentials.uid);
}

}  // namespace giosg::net
