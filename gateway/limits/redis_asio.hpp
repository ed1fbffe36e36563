#pragma once
// hiredis's asynchronous context driven by an Asio io_context (docs/architecture.md, "limit").
// hiredis speaks the protocol and keeps the socket; it tells its event loop which readiness it
// wants through five hooks (addRead, delRead, addWrite, delWrite, cleanup). This adapter maps
// them onto one asio::posix::stream_descriptor on the context's socket with async_wait, so every
// Redis callback runs on the worker's own thread, like everything else of that worker.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

struct redisAsyncContext;

namespace giosg::limits {

class RedisAsioAdapter : public std::enable_shared_from_this<RedisAsioAdapter> {
public:
    /// Hooks `context`'s events into `ioc`; the adapter lives until hiredis's cleanup hook and
    /// every wait it started have finished.
    static void attach(boost::asio::io_context& ioc, redisAsyncContext* context);

    explicit RedisAsioAdapter(boost::asio::io_context& ioc, redisAsyncContext* context);

private:
    enum class Direction : unsigned char { read, write };
    void want(Direction direction, bool wanted);
    void arm(Direction direction);
    void cleanup();

    redisAsyncContext* context_;  // null once hiredis has let go of it (cleanup)
    boost::asio::posix::stream_descriptor socket_;
    bool want_read_ = false;
    bool want_write_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
    std::shared_ptr<RedisAsioAdapter> self_;  // hiredis holds the adapter until cleanup
};

}  // namespace giosg::limits
