#include "server/parked.hpp"

#include <boost/asio/bind_allocator.hpp>

#include "server/session.hpp"
#include "server/worker.hpp"

namespace giosg::server {

namespace {
// Allocates at the exact size. Asio replaces std::allocator with its per-thread recycling cache,
// which hands out the first cached block large enough: for a parked connection's wait, often a
// 350-byte block freed by the session just ended, held for as long as the connection idles.
template <typename T>
struct ExactSizeAllocator {
    using value_type = T;
    ExactSizeAllocator() = default;
    template <typename U>
    ExactSizeAllocator(const ExactSizeAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    friend bool operator==(const ExactSizeAllocator&, const ExactSizeAllocator&) noexcept { return true; }
};
}  // namespace

struct ParkedConnections::Entry {
    Entry(tcp::socket s, std::string r, Clock::time_point until)
        : socket(std::move(s)), remote(std::move(r)), idle_until(until) {}
    tcp::socket socket;
    std::string remote;
    Clock::time_point idle_until;
    Entry* prev = nullptr;
    Entry* next = nullptr;
    bool linked = false;
};

ParkedConnections::ParkedConnections(Worker& worker)
    : worker_(worker), sweep_timer_(worker.ioc) {}

ParkedConnections::~ParkedConnections() { close_all(); }

void ParkedConnections::park(tcp::socket socket, std::string remote, Clock::time_point idle_until) {
    auto entry = std::make_unique<Entry>(std::move(socket), std::move(remote), idle_until);
    Entry& e = *entry;
    link(e);
    // Readable: a request, or the client's FIN or reset (the new session then reads 0 bytes and
    // ends). The handler owns the entry; a close() cancels the wait and the handler lets it go.
    e.socket.async_wait(tcp::socket::wait_read,
                        asio::bind_allocator(ExactSizeAllocator<void>(),
                                             [this, entry = std::move(entry)](const boost::system::error_code& ec) {
                                                 wake(*entry, ec);
                                             }));
    arm_sweep();
}

std::size_t ParkedConnections::close_all() noexcept {
    std::size_t closed = 0;
    for (; head_ != nullptr; ++closed) close(*head_);
    return closed;
}

void ParkedConnections::link(Entry& e) {
    e.prev = tail_;
    e.next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = &e;
    tail_ = &e;
    e.linked = true;
    ++size_;
    worker_.metrics.connections_parked.fetch_add(1, std::memory_order_relaxed);
}

void ParkedConnections::unlink(Entry& e) noexcept {
    if (!e.linked) return;
    (e.prev != nullptr ? e.prev->next : head_) = e.next;
    (e.next != nullptr ? e.next->prev : tail_) = e.prev;
    e.prev = e.next = nullptr;
    e.linked = false;
    --size_;
    worker_.metrics.connections_parked.fetch_sub(1, std::memory_order_relaxed);
    if (head_ == nullptr && sweep_at_ != Clock::time_point::max()) {
        // Nothing left to sweep: a pending timer would keep a draining worker's io_context alive.
        sweep_at_ = Clock::time_point::max();
        sweep_timer_.cancel();
    }
}

void ParkedConnections::close(Entry& e) noexcept {
    unlink(e);
    boost::system::error_code ignored;
    e.socket.close(ignored);
    worker_.metrics.connections_closed.fetch_add(1, std::memory_order_relaxed);
}

void ParkedConnections::arm_sweep() {
    if (head_ == nullptr || sweep_at_ <= head_->idle_until) return;
    sweep_at_ = head_->idle_until;
    sweep_timer_.expires_at(sweep_at_);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;  // set again for an earlier time
        sweep_at_ = Clock::time_point::max();
        sweep();
    });
}

// Oldest first: the list is in parking order, so with one idle_timeout it is in deadline order
// too. After a reload changed idle_timeout an entry may wait behind an older one with a later
// deadline: it is closed at the later of the two, never left open for good.
void ParkedConnections::sweep() {
    const auto now = Clock::now();
    while (head_ != nullptr && head_->idle_until <= now) close(*head_);
    arm_sweep();
}

void ParkedConnections::wake(Entry& entry, const boost::system::error_code& ec) {
    if (!entry.linked) return;  // closed meanwhile (idle deadline, draining): counted there
    if (ec || worker_.draining) {
        close(entry);
        return;
    }
    unlink(entry);
    spawn_session(worker_, resume_session(worker_, std::move(entry.socket), std::move(entry.remote)));
}

}  // namespace giosg::server
