#include "net/peek.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace giosg::net {

Peek peek(int fd) noexcept {
    char probe;
    const auto n = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Peek::data;
    if (n == 0) return Peek::closed;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Peek::nothing : Peek::closed;
}

}  // namespace giosg::net
