#pragma once
// What sits unread on a connected socket, without waiting or consuming: one non-blocking
// recv(MSG_PEEK) of one byte.

namespace giosg::net {

enum class Peek {
    nothing,  // open, nothing unread
    data,     // bytes wait to be read
    closed,   // the peer closed its sending side (FIN), or the socket failed (a reset)
};

[[nodiscard]] Peek peek(int fd) noexcept;

}  // namespace giosg::net
