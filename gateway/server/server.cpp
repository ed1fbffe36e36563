#include "server/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <system_error>

#include "common/format.hpp"
#include "net/accept.hpp"
#include "net/tls_context.hpp"
#include "net/unix_listener.hpp"
#include "server/session.hpp"
#include "server/worker.hpp"

namespace giosg::server {

using net::error_code;
using net::use_nothrow;

namespace {

constexpr std::size_t kMaxConnectionsPerWorker = 50000;

asio::awaitable<void> accept_loop(Worker& worker) {
    net::AcceptBackoff backoff("worker " + std::to_string(worker.index));
    for (;;) {
        auto [ec, socket] = co_await worker.acceptor.async_accept(use_nothrow);
        if (ec) {
            if (ec == asio::error::operation_aborted || !worker.acceptor.is_open()) co_return;
            co_await backoff.after_error(ec);
            continue;
        }
        if (worker.draining) {
            worker.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
            continue;  // the socket closes as it goes out of scope
        }
        if (worker.open_connections() >= kMaxConnectionsPerWorker) {
            // Bounded: past the cap a new connection is closed at once rather than starving the rest.
            spdlog::warn("worker {}: {} connections open, refusing a new one", worker.index, worker.open_connections());
            worker.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
            error_code ignored;
            socket.close(ignored);
            continue;
        }
        // With `tls`, the newest context (a reload may have re-read its files); the session keeps it.
        spawn_session(worker, run_session(worker, std::move(socket), worker.snapshot->listener_tls));
    }
}

// The unix socket listener's loop: every worker accepts on its own dup() of the one listening
// socket (SO_REUSEPORT does not spread unix sockets); the kernel hands each connection to one.
asio::awaitable<void> unix_accept_loop(Worker& worker) {
    net::AcceptBackoff backoff("worker " + std::to_string(worker.index) + " (unix socket)");
    for (;;) {
        auto [ec, socket] = co_await worker.unix_acceptor.async_accept(use_nothrow);
        if (ec) {
            if (ec == asio::error::operation_aborted || !worker.unix_acceptor.is_open()) co_return;
            co_await backoff.after_error(ec);
            continue;
        }
        if (worker.draining || worker.open_connections() >= kMaxConnectionsPerWorker) {
            worker.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
            continue;  // the socket closes as it goes out of scope
        }
        spawn_session(worker, run_session(worker, std::move(socket)));
    }
}

}  // namespace

unsigned Server::resolve_worker_count(unsigned requested) noexcept {
    if (requested > 0) return requested;
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

Server::Server(std::shared_ptr<const Snapshot> snapshot, AuditWriter& audit, Metrics& metrics, unsigned workers)
    : snapshot_(std::move(snapshot)), audit_(audit), metrics_(metrics) {
    if (snapshot_->config->upstream.url.tls)
        tls_ = net::make_tls_client_context(snapshot_->config->upstream.ca_file, "upstream.ca_file");
    const unsigned n = resolve_worker_count(workers);
    for (unsigned i = 0; i < n; ++i)
        workers_.push_back(std::make_unique<Worker>(i, snapshot_, tls_.get(), audit_, metrics_.shard(i)));
}

Server::~Server() { stop(std::chrono::milliseconds(0)); }

void Server::start() {
    const Config& config = *snapshot_->config;
    if (config.listen_tcp) {
        const HostPort& listen = config.listen;
        auto endpoint = net::listen_endpoint(listen.host, listen.port, "/listen");
        for (auto& worker : workers_) {
            // Every worker its own socket on the one port (SO_REUSEPORT); "::" means IPv6 only.
            net::open_listener(worker->acceptor, endpoint, true, endpoint.protocol() == tcp::v6(), "/listen");
            // Port 0: the first bind picks a port; every other worker joins that one.
            endpoint.port(worker->acceptor.local_endpoint().port());
        }
        port_ = endpoint.port();
    }
    if (config.listen_unix) {
        unix_listener_ = std::make_unique<net::UnixListener>(*config.listen_unix);
        for (auto& worker : workers_) {
            const int fd = ::fcntl(unix_listener_->fd(), F_DUPFD_CLOEXEC, 0);
            if (fd < 0) throw std::runtime_error("/listen: cannot share the unix socket: " + errno_text(errno));
            error_code ec;
            worker->unix_acceptor.assign(asio::local::stream_protocol(), fd, ec);
            if (ec) {
                ::close(fd);
                throw std::runtime_error("/listen: cannot share the unix socket: " + ec.message());
            }
        }
    }
    for (auto& worker : workers_) {
        if (config.listen_tcp)
            asio::co_spawn(worker->ioc, accept_loop(*worker), [](std::exception_ptr ep) {
                if (ep) std::rethrow_exception(ep);
            });
        if (config.listen_unix)
            asio::co_spawn(worker->ioc, unix_accept_loop(*worker), [](std::exception_ptr ep) {
                if (ep) std::rethrow_exception(ep);
            });
        threads_.emplace_back([w = worker.get()] {
            for (;;) {
                try {
                    w->ioc.run();
                    return;
                } catch (const std::exception& e) {
                    spdlog::critical("worker {} loop exception: {}", w->index, e.what());
                }
            }
        });
    }
}

void Server::publish(std::shared_ptr<const Snapshot> snapshot) {
    snapshot_ = snapshot;
    for (auto& worker : workers_)
        asio::post(worker->ioc, [w = worker.get(), snapshot] { w->snapshot = snapshot; });
}

void Server::stop(std::chrono::milliseconds drain) {
    if (stopped_) return;
    stopped_ = true;
    const auto started = std::chrono::steady_clock::now();
    // Counted on the workers' threads, read once every thread has been joined.
    std::atomic<std::size_t> idle_closed{0}, in_flight{0}, cut_off{0};
    for (auto& worker : workers_) {
        asio::post(worker->ioc, [w = worker.get(), &idle_closed, &in_flight] {
            w->draining = true;
            error_code ec;
            w->acceptor.close(ec);
            w->unix_acceptor.close(ec);
            // Copy: closing a session can end it, which erases it from the set.
            std::vector<Session*> sessions(w->sessions.begin(), w->sessions.end());
            for (auto* s : sessions) (s->close_if_idle() ? idle_closed : in_flight).fetch_add(1);
            idle_closed.fetch_add(w->parked.close_all());
            // Also the connections that requests in flight release from now on: a pooled one
            // keeps a timer that would hold the worker until the drain period ends.
            w->pool.close_idle();
            // Its connection would keep the io_context running; the few requests still to pass
            // the limit stage get on_store_failure.
            if (w->rate_store) w->rate_store->close();
        });
    }
    // Each io_context runs out of work once its sessions have finished; wait up to `drain`.
    const auto wait_until_stopped = [](Worker& worker, std::chrono::steady_clock::time_point deadline) {
        while (!worker.ioc.stopped() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return worker.ioc.stopped();
    };
    const auto deadline = started + drain;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        auto& worker = *workers_[i];
        if (threads_[i].joinable() && !wait_until_stopped(worker, deadline)) {
            // Drain period over: cut what is left so each request still writes its audit record.
            asio::post(worker.ioc, [w = &worker, &cut_off] {
                std::vector<Session*> sessions(w->sessions.begin(), w->sessions.end());
                cut_off.fetch_add(sessions.size());
                if (!sessions.empty())
                    spdlog::warn("worker {}: {} requests still in flight after the drain period; aborting them",
                                 w->index, sessions.size());
                for (auto* s : sessions) s->abort();
            });
            if (!wait_until_stopped(worker, std::chrono::steady_clock::now() + std::chrono::seconds(1)))
                worker.ioc.stop();
        }
        if (threads_[i].joinable()) threads_[i].join();
    }
    unix_listener_.reset();  // the socket file goes with the listener
    if (threads_.empty()) return;  // never started
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    spdlog::info("drained in {} ms: {} idle connections closed, {} requests in flight waited for, {} cut off",
                 took.count(), idle_closed.load(), in_flight.load(), cut_off.load());
}

}  // namespace giosg::server
