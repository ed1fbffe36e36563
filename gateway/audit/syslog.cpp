#include "audit/syslog.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "audit/syslog_frame.hpp"
#include "net/io.hpp"
#include "net/tls_context.hpp"

namespace giosg {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using net::error_code;
using net::use_nothrow;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{100};
constexpr std::size_t kMaxBatchMessages = 512;   // one gather write carries at most this many
constexpr std::size_t kMaxBatchBytes = 1u << 20;
// At stop, how long to wait for the receiver's close_notify after sending ours (RFC 5425 §4.4
// lets the sender close without waiting; a short wait lets a receiver that answers close cleanly).
constexpr milliseconds kTlsCloseWait{500};

/// One connection to the receiver. `reading` and `broken` belong to the watcher (see watch()).
struct Link {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;

    Link(const asio::any_io_executor& executor, asio::ssl::context* tls)
        : stream(tls ? decltype(stream){std::in_place_index<1>, beast::tcp_stream(executor), *tls}
                     : decltype(stream){std::in_place_index<0>, executor}) {}

    beast::tcp_stream& lowest() noexcept {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
    }
    void close() noexcept {
        error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().close();
    }

    std::variant<beast::tcp_stream, TlsStream> stream;
    bool reading = false;   // the watcher's read is pending
    error_code broken;      // why the watcher's read ended
};

}  // namespace

struct SyslogShipper::Impl {
    explicit Impl(SyslogOptions opts);

    void enqueue(std::string_view line);
    void start();
    void stop(milliseconds grace);

    // Everything below runs on the shipper's thread.
    asio::awaitable<void> run();
    asio::awaitable<error_code> connect();
    asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(Clock::time_point deadline);
    asio::awaitable<error_code> pump();
    asio::awaitable<void> watch(std::shared_ptr<Link> link);
    asio::awaitable<void> close_link(bool graceful);
    asio::awaitable<void> pause(milliseconds delay);
    void arm_stop_deadline();

    /// True once stop() was called and there is nothing left to send or no time left to send it.
    bool finished();
    /// The stop deadline; time_point::max() until stop().
    Clock::time_point stop_at();
    /// now + timeout, but never past the stop deadline.
    Clock::time_point deadline_for(milliseconds timeout) { return std::min(Clock::now() + timeout, stop_at()); }

    /// A lookup that can be abandoned: getaddrinfo has no deadline and Asio 1.81 cannot cancel
    /// it, so we wait for the answer or `done`, whichever comes first (as upstream::Pool does).
    struct Lookup {
        explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), done(executor) {}
        tcp::resolver resolver;
        asio::steady_timer done;  // cancelled when the answer is in
        bool answered = false;
        error_code ec;
        tcp::resolver::results_type results;
    };

    const SyslogOptions options;
    const std::string target;        // "host:port" for log lines
    SyslogFramer framer;
    std::unique_ptr<asio::ssl::context> tls;

    asio::io_context io{1};
    asio::steady_timer wake{io};        // the sender waits on it; enqueue, stop and the watcher cancel it
    asio::steady_timer stop_timer{io};  // fires at the stop deadline
    std::thread thread;

    std::mutex mutex;                       // guards the fields down to the counters
    std::deque<std::string> queue;          // framed messages, oldest first
    std::size_t in_flight = 0;              // taken into `batch`; counts against queue_limit
    bool waiting_for_work = false;          // the sender sleeps until enqueue wakes it
    bool wake_posted = false;
    bool started = false;
    bool stop_requested = false;
    bool stopped = false;
    Clock::time_point stop_deadline = Clock::time_point::max();

    // Shipper thread only.
    std::vector<std::string> batch;
    std::vector<asio::const_buffer> buffers;
    std::shared_ptr<Link> current_link;
    std::weak_ptr<Lookup> current_lookup;
    bool run_finished = false;

    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<bool> connected{false};
};

SyslogShipper::Impl::Impl(SyslogOptions opts)
    : options(std::move(opts)),
      target(options.host.find(':') != std::string::npos ? "[" + options.host + "]:" + std::to_string(options.port)
                                                         : options.host + ":" + std::to_string(options.port)) {
    if (options.host.empty() || options.port == 0) throw std::runtime_error("syslog needs a host and a port");
    if (options.facility < 0 || options.facility > 23)
        throw std::runtime_error("syslog facility must be 0..23, not " + std::to_string(options.facility));
    if (options.queue_limit == 0) throw std::runtime_error("syslog queue_limit must be at least 1");
    if (options.tls) tls = net::make_tls_client_context(options.ca_file, "syslog ca_file");
    framer = SyslogFramer(options.facility, options.app_name);
    batch.reserve(kMaxBatchMessages);
    buffers.reserve(kMaxBatchMessages);
}

void SyslogShipper::Impl::enqueue(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::string frame = framer.frame(line);

    bool post_wake = false;
    {
        std::lock_guard lock(mutex);
        if (stopped) {
            dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (queue.size() + in_flight >= options.queue_limit) {
            dropped.fetch_add(1, std::memory_order_relaxed);
            if (queue.empty()) return;  // everything held is being written: the new line goes
            queue.pop_front();
        }
        queue.push_back(std::move(frame));
        if (waiting_for_work && !wake_posted) post_wake = wake_posted = true;
    }
    if (post_wake)
        asio::post(io, [this] {
            {
                std::lock_guard lock(mutex);
                wake_posted = false;
            }
            wake.cancel();
        });
}

void SyslogShipper::Impl::start() {
    {
        std::lock_guard lock(mutex);
        if (started || stop_requested) return;
        started = true;
    }
    asio::co_spawn(io, run(), [this](const std::exception_ptr& error) {
        run_finished = true;
        stop_timer.cancel();
        // What may still be pending is not waited for: a lookup that was given up on (getaddrinfo
        // cannot be cancelled) or the end of a closed connection's read.
        io.stop();
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            spdlog::error("syslog: shipping to {} stopped: {}", target, e.what());
        }
    });
    thread = std::thread([this] { io.run(); });
}

void SyslogShipper::Impl::stop(milliseconds grace) {
    {
        std::lock_guard lock(mutex);
        if (!stop_requested) {
            stop_requested = true;
            stop_deadline = Clock::now() + grace;
        }
    }
    if (thread.joinable()) {
        asio::post(io, [this] {
            arm_stop_deadline();
            wake.cancel();
        });
        thread.join();
    }
    // Whatever is left (never started, or the sender failed) is not going anywhere now. The
    // sender's thread has ended, so its batch can be read here.
    std::lock_guard lock(mutex);
    const auto left = queue.size() + batch.size();
    if (left > 0) {
        dropped.fetch_add(left, std::memory_order_relaxed);
        spdlog::warn("syslog: stopped with {} audit lines not sent to {}", left, target);
    }
    queue.clear();
    batch.clear();
    in_flight = 0;
    stopped = true;
}

bool SyslogShipper::Impl::finished() {
    std::lock_guard lock(mutex);
    return stop_requested && (queue.empty() || Clock::now() >= stop_deadline);
}

Clock::time_point SyslogShipper::Impl::stop_at() {
    std::lock_guard lock(mutex);
    return stop_deadline;
}

void SyslogShipper::Impl::arm_stop_deadline() {
    if (run_finished) return;
    stop_timer.expires_at(stop_at());
    stop_timer.async_wait([this](const error_code& ec) {
        if (ec) return;  // cancelled: run() finished in time
        // Operations started before stop() carry their own, longer deadlines: cut them short.
        if (current_link) current_link->close();
        if (auto lookup = current_lookup.lock()) lookup->done.cancel();
        wake.cancel();
    });
}

asio::awaitable<void> SyslogShipper::Impl::run() {
    const auto max_backoff = std::max(options.max_backoff, kFirstBackoff);
    auto backoff = kFirstBackoff;
    bool failing = false;  // since the last connection: attempts failed or it was lost
    while (!finished()) {
        if (auto ec = co_await connect()) {
            if (finished()) break;
            // The first failure of a streak is worth a warning; the retries that follow are not.
            if (!failing) spdlog::warn("syslog: cannot connect to {}: {}; audit lines are queued", target, ec.message());
            else spdlog::debug("syslog: cannot connect to {}: {}", target, ec.message());
            failing = true;
            co_await pause(backoff);
            backoff = std::min(backoff * 2, max_backoff);
            continue;
        }
        if (failing) reconnects.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("syslog: connected to {}{}", target, failing ? " again" : "");
        failing = false;
        connected.store(true, std::memory_order_relaxed);

        const auto sent_before = sent.load(std::memory_order_relaxed);
        const auto ec = co_await pump();
        // A receiver that accepts and then drops us at once keeps the back-off growing.
        if (sent.load(std::memory_order_relaxed) > sent_before) backoff = kFirstBackoff;
        connected.store(false, std::memory_order_relaxed);
        co_await close_link(!ec);
        if (!ec || finished()) break;
        std::size_t queued = 0;
        {
            std::lock_guard lock(mutex);
            queued = queue.size();
        }
        spdlog::warn("syslog: connection to {} lost: {}; {} audit lines queued", target, ec.message(), queued);
        failing = true;
        co_await pause(backoff);
        backoff = std::min(backoff * 2, max_backoff);
    }
    std::lock_guard lock(mutex);
    if (!queue.empty()) {
        dropped.fetch_add(queue.size(), std::memory_order_relaxed);
        spdlog::warn("syslog: stopped with {} audit lines not sent to {}", queue.size(), target);
        queue.clear();
    }
}

asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> SyslogShipper::Impl::resolve(
    Clock::time_point deadline) {
    auto lookup = std::make_shared<Lookup>(io.get_executor());
    current_lookup = lookup;
    lookup->done.expires_at(deadline);
    lookup->resolver.async_resolve(options.host, std::to_string(options.port),
                                   [lookup](const error_code& ec, tcp::resolver::results_type results) {
                                       lookup->answered = true;
                                       lookup->ec = ec;
                                       lookup->results = std::move(results);
                                       lookup->done.cancel();
                                   });
    co_await lookup->done.async_wait(use_nothrow);
    if (!lookup->answered) co_return std::pair{error_code(asio::error::timed_out), tcp::resolver::results_type{}};
    co_return std::pair{lookup->ec, std::move(lookup->results)};
}

asio::awaitable<error_code> SyslogShipper::Impl::connect() {
    // One deadline for the whole of it: resolve, connect, handshake.
    const auto deadline = deadline_for(options.connect_timeout);
    auto [resolve_ec, endpoints] = co_await resolve(deadline);
    if (resolve_ec) co_return resolve_ec;

    current_link = std::make_shared<Link>(io.get_executor(), tls.get());
    auto& link = *current_link;
    auto& tcp_layer = link.lowest();
    tcp_layer.expires_at(deadline);
    auto [ec, endpoint] = co_await tcp_layer.async_connect(endpoints, use_nothrow);
    if (!ec) {
        tcp_layer.socket().set_option(tcp::no_delay(true), ec);
        ec = {};
    }
    if (auto* tls_stream = std::get_if<1>(&link.stream); tls_stream != nullptr && !ec) {
        error_code not_address;
        asio::ip::make_address(options.host, not_address);
        // SNI is only for host names (RFC 6066 §3); an address is verified against IP SANs.
        // SSL_set_tlsext_host_name is a macro with a C cast; this is the call it expands to.
        if (not_address && SSL_ctrl(tls_stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                    const_cast<char*>(options.host.c_str())) != 1)
            ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        if (!ec) {
            tls_stream->set_verify_callback(asio::ssl::host_name_verification(options.host));
            std::tie(ec) = co_await tls_stream->async_handshake(asio::ssl::stream_base::client, use_nothrow);
        }
    }
    if (ec) {
        link.close();
        current_link.reset();
        co_return ec;
    }
    co_return error_code{};
}

asio::awaitable<error_code> SyslogShipper::Impl::pump() {
    auto link = current_link;
    // Receivers send nothing (RFC 6587, RFC 5425), so a read that ends is the connection ending:
    // the watcher notices a receiver that went away while we are idle, instead of our next write
    // going into a dead socket. It has no deadline on purpose; every write has one.
    link->lowest().expires_never();
    link->reading = true;
    asio::co_spawn(io, watch(link), asio::detached);
    for (;;) {
        bool idle = false;
        {
            std::lock_guard lock(mutex);
            if (link->broken) co_return link->broken;
            if (queue.empty()) {
                if (stop_requested) co_return error_code{};  // all sent
                waiting_for_work = idle = true;
            } else if (stop_requested && Clock::now() >= stop_deadline) {
                co_return error_code(asio::error::timed_out);
            } else {
                std::size_t bytes = 0;
                while (!queue.empty() && batch.size() < kMaxBatchMessages &&
                       (batch.empty() || bytes + queue.front().size() <= kMaxBatchBytes)) {
                    bytes += queue.front().size();
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
                in_flight = batch.size();
            }
        }
        if (idle) {
            wake.expires_at(Clock::time_point::max());
            co_await wake.async_wait(use_nothrow);
            std::lock_guard lock(mutex);
            waiting_for_work = false;
            continue;
        }

        buffers.clear();
        for (const auto& message : batch) buffers.push_back(asio::buffer(message));
        link->lowest().expires_at(deadline_for(options.write_timeout));  // the write's timer only: a read is pending
        auto [ec, written] = co_await std::visit(
            [&](auto& stream) { return asio::async_write(stream, buffers, use_nothrow); }, link->stream);
        if (ec) {
            // The batch goes back in front, in order, to be sent again on the next connection; the
            // receiver may already have some of it (a duplicate there, and maybe a cut frame that
            // it discards with the broken connection). Better twice than never.
            std::lock_guard lock(mutex);
            for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue.push_front(std::move(*it));
            batch.clear();
            in_flight = 0;
            co_return ec;
        }
        sent.fetch_add(batch.size(), std::memory_order_relaxed);
        {
            std::lock_guard lock(mutex);
            in_flight = 0;
        }
        batch.clear();
    }
}

asio::awaitable<void> SyslogShipper::Impl::watch(std::shared_ptr<Link> link) {
    std::array<char, 256> sink{};
    for (;;) {
        auto [ec, n] = co_await std::visit(
            [&](auto& stream) { return stream.async_read_some(asio::buffer(sink), use_nothrow); }, link->stream);
        if (ec) {
            link->broken = ec;
            break;
        }
        // Bytes from a receiver mean nothing in RFC 6587 / RFC 5425: ignored.
    }
    link->reading = false;
    wake.cancel();
}

asio::awaitable<void> SyslogShipper::Impl::close_link(bool graceful) {
    auto& link = *current_link;
    if (auto* tls_stream = std::get_if<1>(&link.stream); tls_stream != nullptr && graceful) {
        // RFC 5425 §4.4: the sender closes with close_notify. The watcher's read has to end first:
        // the shutdown reads too, and a stream takes one read at a time.
        error_code ignored;
        link.lowest().socket().cancel(ignored);
        while (link.reading) {
            wake.expires_at(Clock::time_point::max());
            co_await wake.async_wait(use_nothrow);
        }
        link.lowest().expires_at(deadline_for(kTlsCloseWait));
        co_await tls_stream->async_shutdown(use_nothrow);  // any outcome ends in close()
    }
    link.close();
    current_link.reset();
}

asio::awaitable<void> SyslogShipper::Impl::pause(milliseconds delay) {
    const auto until = Clock::now() + delay;
    for (;;) {
        // Re-read each time: stop() may have come since, with an earlier deadline.
        const auto at = std::min(until, stop_at());
        if (Clock::now() >= at || finished()) co_return;
        wake.expires_at(at);
        co_await wake.async_wait(use_nothrow);  // also cut short by enqueue or the watcher: wait again
    }
}

SyslogShipper::SyslogShipper(SyslogOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

SyslogShipper::~SyslogShipper() { stop(); }

void SyslogShipper::start() { impl_->start(); }

void SyslogShipper::enqueue(std::string_view line) { impl_->enqueue(line); }

void SyslogShipper::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

std::uint64_t SyslogShipper::sent() const noexcept { return impl_->sent.load(std::memory_order_relaxed); }

std::uint64_t SyslogShipper::dropped() const noexcept { return impl_->dropped.load(std::memory_order_relaxed); }

std::uint64_t SyslogShipper::reconnects() const noexcept { return impl_->reconnects.load(std::memory_order_relaxed); }

bool SyslogShipper::connected() const noexcept { return impl_->connected.load(std::memory_order_relaxed); }

}  // namespace giosg
