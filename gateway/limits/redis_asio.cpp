#include "limits/redis_asio.hpp"

#include <hiredis/async.h>

namespace giosg::limits {

void RedisAsioAdapter::attach(boost::asio::io_context& ioc, redisAsyncContext* context) {
    auto adapter = std::make_shared<RedisAsioAdapter>(ioc, context);
    adapter->self_ = adapter;
    context->ev.data = adapter.get();
    context->ev.addRead = [](void* data) { static_cast<RedisAsioAdapter*>(data)->want(Direction::read, true); };
    context->ev.delRead = [](void* data) { static_cast<RedisAsioAdapter*>(data)->want(Direction::read, false); };
    context->ev.addWrite = [](void* data) { static_cast<RedisAsioAdapter*>(data)->want(Direction::write, true); };
    context->ev.delWrite = [](void* data) { static_cast<RedisAsioAdapter*>(data)->want(Direction::write, false); };
    context->ev.cleanup = [](void* data) { static_cast<RedisAsioAdapter*>(data)->cleanup(); };
}

RedisAsioAdapter::RedisAsioAdapter(boost::asio::io_context& ioc, redisAsyncContext* context)
    : context_(context), socket_(ioc, context->c.fd) {}

void RedisAsioAdapter::want(Direction direction, bool wanted) {
    (direction == Direction::read ? want_read_ : want_write_) = wanted;
    // The hooks say what hiredis wants; a wait already armed stays armed (Asio cannot cancel one
    // direction alone) and is ignored when it fires unwanted.
    if (wanted) arm(direction);
}

void RedisAsioAdapter::arm(Direction direction) {
    bool& armed = direction == Direction::read ? read_armed_ : write_armed_;
    if (armed || context_ == nullptr) return;
    armed = true;
    const auto wait = direction == Direction::read ? boost::asio::posix::stream_descriptor::wait_read
                                                   : boost::asio::posix::stream_descriptor::wait_write;
    // The handler keeps the adapter alive: it may fire after hiredis has cleaned up.
    socket_.async_wait(wait, [self = shared_from_this(), direction](const boost::system::error_code& ec) {
        bool& armed_now = direction == Direction::read ? self->read_armed_ : self->write_armed_;
        armed_now = false;
        if (ec || self->context_ == nullptr) return;
        const bool wanted = direction == Direction::read ? self->want_read_ : self->want_write_;
        if (!wanted) return;
        // Either call may end the connection and free the context (cleanup() then runs).
        if (direction == Direction::read) redisAsyncHandleRead(self->context_);
        else redisAsyncHandleWrite(self->context_);
        const bool still_wanted = direction == Direction::read ? self->want_read_ : self->want_write_;
        if (self->context_ != nullptr && still_wanted) self->arm(direction);
    });
}

void RedisAsioAdapter::cleanup() {
    // hiredis closes the socket itself after this hook: Asio must only let go of it.
    context_ = nullptr;
    want_read_ = want_write_ = false;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    (void)socket_.release();
    // The pending waits' handlers hold any other reference; this may be the last one, so
    // nothing touches the adapter after it goes.
    [[maybe_unused]] const auto last = std::move(self_);
}

}  // namespace giosg::limits
