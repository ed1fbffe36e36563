#include "cli/io_backend.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

namespace giosg::cli {

std::string_view io_backend_name() noexcept {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    return "io_uring";
#else
    return "epoll";
#endif
}

std::optional<std::string> io_backend_problem() {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    try {
        // The ring is set up with the first I/O object, not with the io_context: make one.
        boost::asio::io_context probe(1);
        boost::asio::steady_timer timer(probe);
    } catch (const boost::system::system_error& e) {
        return std::string("this build uses io_uring (GIOSG_IO_URING=ON) and the system refused it (") + e.what() +
               "): allow io_uring (the container's seccomp profile, sysctl kernel.io_uring_disabled) or run a "
               "build without GIOSG_IO_URING";
    }
#endif
    return std::nullopt;
}

}  // namespace giosg::cli
