#include "net/deadline.hpp"

#include <boost/asio/error.hpp>

namespace giosg::net {

Deadline::Deadline(const boost::asio::any_io_executor& executor, void* socket, Action act, OnExpiry action)
    : state_(std::make_shared<State>(executor)) {
    state_->socket = socket;
    state_->act = act;
    state_->action = action;
}

Deadline::~Deadline() {
    state_->socket = nullptr;
    cancel();
}

void Deadline::expires_after(std::chrono::milliseconds timeout) {
    State& s = *state_;
    s.expired = false;
    s.at = Clock::now() + timeout;
    // A later deadline waits for the timer to fire at the earlier time and be set again then.
    if (!s.armed || s.at < s.timer.expiry()) arm(state_);
}

void Deadline::clear() noexcept {
    state_->at = Clock::time_point::max();
    state_->expired = false;
}

void Deadline::cancel() noexcept {
    state_->at = Clock::time_point::max();
    state_->armed = false;
    state_->timer.cancel();
}

void Deadline::arm(const std::shared_ptr<State>& state) {
    state->timer.expires_at(state->at);  // cancels a pending wait: its handler sees operation_aborted
    state->armed = true;
    state->timer.async_wait([state](const boost::system::error_code& ec) {
        if (ec == boost::asio::error::operation_aborted) return;  // replaced by a newer wait, or cancelled
        fired(state);
    });
}

void Deadline::fired(const std::shared_ptr<State>& state) {
    State& s = *state;
    s.armed = false;
    if (s.socket == nullptr || s.at == Clock::time_point::max()) return;
    if (Clock::now() < s.at) {
        arm(state);  // the deadline moved later since the timer was set
        return;
    }
    s.expired = true;
    s.at = Clock::time_point::max();
    s.act(s.socket, s.action);
}

}  // namespace giosg::net
