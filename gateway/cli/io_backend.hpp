#pragma once
// What Asio waits on in every worker: epoll, or io_uring in a GIOSG_IO_URING build. An io_uring
// build cannot fall back to epoll (Asio chooses at compile time), and many container runtimes'
// default seccomp profiles, and kernel.io_uring_disabled, refuse io_uring: such a binary must
// say so at start instead of failing on its first io_context.
#include <optional>
#include <string>
#include <string_view>

namespace giosg::cli {

/// "epoll" or "io_uring".
[[nodiscard]] std::string_view io_backend_name() noexcept;

/// Why this process cannot run its I/O backend here, or nullopt when it can (always for epoll).
[[nodiscard]] std::optional<std::string> io_backend_problem();

}  // namespace giosg::cli
