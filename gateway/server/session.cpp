#include "server/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>

#include "audit/record.hpp"
#include "http/forward.hpp"
#include "http/target.hpp"
#include "net/peek.hpp"

namespace giosg::server {

using net::error_code;
using net::use_nothrow;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kMaxUpstreamHeadBytes = 32768;  // giosg answers with a few hundred bytes
constexpr std::size_t kPrebufferBytes = 65536;        // responses up to this size are checked whole
constexpr std::size_t kMaxAuditPathBytes = 2048;      // of a refused target, in its audit record
constexpr double kClientGoneCheckAfterMs = 10;        // after a slower answer: is the client still there?
constexpr std::size_t kKeepBufferBytes = 65536;       // buffers shrink back to this after a big body
constexpr std::size_t kAuditLineReserve = 512;     // a typical record is 300-450 bytes
// The read that waits for a request: a typical API request head is 300-800 bytes, and the
// buffer stays allocated while the connection idles, so it starts small; a longer head is read
// on in 8 KiB steps.
constexpr std::size_t kFirstReadBytes = 2048;
constexpr std::size_t kMoreHeadBytes = 8192;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The audit path of a refused target: first the password and query go, then the length.
void set_refused_target_path(std::string& path, std::string_view target) {
    path.clear();
    http::append_audit_target(target, path);
    if (path.size() > kMaxAuditPathBytes) path.resize(kMaxAuditPathBytes);
}

bool valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool idempotent(std::string_view method) noexcept {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE";
}

void append_decimal(std::uint64_t v, std::string& out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void append_hex(std::uint64_t v, std::string& out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
    out.append(buf, end);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

void append_status_line(std::string& out, int status, std::string_view phrase) {
    out.append("HTTP/1.1 ");
    append_decimal(static_cast<std::uint64_t>(status), out);
    out.push_back(' ');
    out.append(phrase).append("\r\n");
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string format_remote(const tcp::socket& socket) {
    error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    const auto addr = ep.address();
    if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
    return addr.to_string() + ":" + std::to_string(ep.port());
}
}  // namespace

// ---------------------------------------------------------------------------------------------

ClientStream::ClientStream(tcp::socket socket)
    : socket_(std::move(socket)), deadline_(socket_.get_executor(), socket_, net::Deadline::OnExpiry::cancel) {}

asio::awaitable<std::size_t> ClientStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
    auto [e, n] = co_await socket_.async_read_some(buffer, use_nothrow);
    ec = deadline_.outcome(e);
    co_return n;
}

asio::awaitable<void> ClientStream::write(error_code& ec, asio::const_buffer a, asio::const_buffer b,
                                          asio::const_buffer c) {
    const std::array<asio::const_buffer, 3> buffers{a, b, c};
    auto [e, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
    ec = deadline_.outcome(e);
}

void ClientStream::close() noexcept {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
}

// ---------------------------------------------------------------------------------------------

struct Session::Exchange {
    Clock::time_point started{};
    std::chrono::system_clock::time_point ts{};
    std::shared_ptr<const Snapshot> snapshot;
    char request_id[128]{};
    std::size_t request_id_size = 0;
    std::string method;            // copies: the head's bytes are gone once the body is read
    std::string path;
    std::size_t head_bytes = 0;
    Decision decision;
    Reason code = Reason::ok;
    std::string_view detail;       // static text for gateway-made errors
    std::size_t authorization_count = 0;
    http::BodyKind body_kind = http::BodyKind::none;
    std::uint64_t content_length = 0;
    bool sent_content_length = false;
    bool expect_continue = false;
    bool client_keep_alive = true;
    bool forwarded = false;        // policy let it through (CONTRACT §4 "decision": allow)
    int status = 0;
    std::optional<int> upstream_status;
    std::optional<double> upstream_ms;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    bool recorded = false;         // the audit record has been submitted

    void reset() {
        started = {};
        snapshot.reset();
        request_id_size = 0;
        method.clear();
        path.clear();
        head_bytes = 0;
        decision = Decision{};
        decision.reason = Reason::not_authenticated;
        code = Reason::ok;
        detail = {};
        authorization_count = 0;
        body_kind = http::BodyKind::none;
        content_length = 0;
        sent_content_length = false;
        expect_continue = false;
        client_keep_alive = true;
        forwarded = false;
        status = 0;
        upstream_status.reset();
        upstream_ms.reset();
        bytes_in = bytes_out = 0;
        recorded = false;
    }
    [[nodiscard]] std::string_view id() const noexcept { return {request_id, request_id_size}; }
    void set_id(std::string_view id) noexcept {
        request_id_size = std::min(id.size(), sizeof request_id);
        std::copy_n(id.data(), request_id_size, request_id);
    }
    [[nodiscard]] bool allowed() const noexcept { return decision.reason == Reason::ok; }
};

// ---------------------------------------------------------------------------------------------

Session::Session(Worker& worker, tcp::socket socket)
    : worker_(worker),
      client_(std::move(socket)),
      remote_(format_remote(client_.socket())),
      audit_wait_(worker.ioc) {
    error_code ec;
    client_.socket().set_option(tcp::no_delay(true), ec);
    worker_.sessions.insert(this);
    worker_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
    worker_.sessions.erase(this);
    worker_.metrics.connections_closed.fetch_add(1, std::memory_order_relaxed);
}

void Session::close_if_idle() noexcept {
    if (idle_ && buffer_.empty()) {
        closed_ = true;
        client_.close();
    }
}

asio::awaitable<void> run_session(Worker& worker, tcp::socket socket) {
    Session session(worker, std::move(socket));
    co_await session.run();
}

asio::awaitable<void> Session::run() {
    Exchange ex;
    bool first = true;
    while (!closed_) {
        ex.reset();
        const auto outcome = co_await read_request_head(ex, first);
        first = false;
        if (outcome == HeadOutcome::idle_closed) break;
        bool keep = false;
        if (outcome == HeadOutcome::error) {
            co_await send_error(ex, ex.code, ex.detail, true);
        } else {
            keep = co_await handle(ex);
        }
        finish(ex);
        if (!keep || worker_.draining) break;
    }
    if (linger_ && !closed_) co_await linger_close();
    client_.close();
}

// Closing a socket with unread request bytes makes the kernel answer RST, and many clients then
// report a connection error instead of the 4xx they were sent. So, like nginx's lingering_close:
// stop sending, discard what the client still sends for a short bounded while, then close.
asio::awaitable<void> Session::linger_close() {
    constexpr std::size_t kLingerBytes = 1u << 20;
    error_code ec;
    client_.socket().shutdown(tcp::socket::shutdown_send, ec);
    client_.expires_after(std::chrono::seconds(2));
    std::size_t drained = 0;
    while (drained < kLingerBytes && !closed_) {
        buffer_.clear();
        const auto n = co_await client_.read_some(buffer_.prepare(16384), ec);
        if (n == 0) break;
        drained += n;
    }
    buffer_.clear();
}

void Session::abort() noexcept {
    closed_ = true;
    client_.close();
    if (upstream_ != nullptr) upstream_->close();
    audit_wait_.cancel();
}

// Reads until a complete head is buffered. Every head gets `header_timeout` from its first
// byte. Between requests a keep-alive connection may sit idle for `idle_timeout`; a new
// connection gets only `header_timeout` for its first byte (a silent connection is no client).
asio::awaitable<Session::HeadOutcome> Session::read_request_head(Exchange& ex, bool first_request) {
    const auto& limits = worker_.snapshot->config->limits;
    if (buffer_.empty()) {
        idle_ = true;
        if (worker_.draining) co_return HeadOutcome::idle_closed;
        client_.expires_after(first_request ? limits.header_timeout : limits.idle_timeout);
        error_code ec;
        const auto n = co_await client_.read_some(buffer_.prepare(kFirstReadBytes), ec);
        buffer_.commit(n);
        idle_ = false;
        if (n == 0) co_return HeadOutcome::idle_closed;  // closed, reset, idle timeout or draining
    }
    idle_ = false;
    ex.started = Clock::now();
    ex.ts = std::chrono::system_clock::now();
    client_.expires_after(limits.header_timeout);
    for (;;) {
        const auto result = http::parse_request_head(buffer_.view(), limits.max_header_bytes, head_);
        if (result.status == http::ParseStatus::complete) {
            ex.head_bytes = result.head_bytes;
            co_return HeadOutcome::ok;
        }
        if (result.status == http::ParseStatus::error) {
            ex.code = result.reason;
            ex.detail = result.detail;
            break;
        }
        error_code ec;
        const auto n = co_await client_.read_some(buffer_.prepare(kMoreHeadBytes), ec);
        buffer_.commit(n);
        if (n > 0) continue;
        if (ec == beast::error::timeout) {
            ex.code = Reason::request_timeout;
            ex.detail = reason_detail(Reason::request_timeout);
            break;
        }
        // The client left halfway through a head: record what we saw, answer nobody.
        ex.code = Reason::client_closed;
        break;
    }
    // Best effort for the audit record: method and path from a request line we could not accept,
    // only when the first line has a request line's shape. Anything else may be the middle of a
    // head (a pipelined request cut by a wrong Content-Length): "Token <key>" must not become a
    // method and a path.
    if (const auto line = http::request_line_parts(buffer_.view().substr(0, std::min<std::size_t>(buffer_.size(), 4096)))) {
        ex.method.assign(line->method);
        set_refused_target_path(ex.path, line->target);
    }
    if (ex.code == Reason::client_closed) {
        ex.status = reason_status(Reason::client_closed);
        finish(ex);
        co_return HeadOutcome::idle_closed;
    }
    co_return HeadOutcome::error;
}

asio::awaitable<bool> Session::handle(Exchange& ex) {
    const http::RequestHead& head = head_;
    ex.snapshot = worker_.snapshot;  // this request keeps its snapshot even if a refresh lands
    const Snapshot& snap = *ex.snapshot;
    const auto& limits = snap.config->limits;

    if (const auto id = head.find("X-Request-Id"); id && head.count("X-Request-Id") == 1 && valid_request_id(*id))
        ex.set_id(*id);
    ex.method.assign(head.method);
    ex.client_keep_alive = head.keep_alive;

    // Step 1: target rules and body limits.
    const auto target = http::parse_target(head.target);
    if (!target.ok) {
        set_refused_target_path(ex.path, head.target);
        co_return co_await send_error(ex, Reason::bad_request, target.detail, true);
    }
    ex.path.assign(target.target.path);
    if (head.body == http::BodyKind::content_length && head.content_length > limits.max_body_bytes)
        co_return co_await send_error(ex, Reason::payload_too_large, reason_detail(Reason::payload_too_large), true);

    // Steps 2-6.
    const auto authorization = head.find("Authorization");
    ex.authorization_count = head.count("Authorization");
    ex.decision = decide(*snap.policy, *snap.clients,
                         RequestFacts{head.method, target.target.path, authorization.value_or(std::string_view{}),
                                      ex.authorization_count});
    if (!ex.allowed()) {
        // A refused request's body is never read (so never parsed as a next request): close instead.
        const bool close = head.body != http::BodyKind::none || !head.keep_alive;
        buffer_.consume(ex.head_bytes);
        co_return co_await send_error(ex, ex.decision.reason, {}, close);
    }

    // audit.on_failure "deny": while records cannot be written, nothing is forwarded.
    if (!worker_.audit.healthy() && snap.config->audit.on_failure == AuditConfig::OnFailure::deny) {
        const bool close = head.body != http::BodyKind::none || !head.keep_alive;
        buffer_.consume(ex.head_bytes);
        co_return co_await send_error(ex, Reason::audit_unavailable, {}, close);
    }

    // Step 7: forward. Everything taken from the head is copied before the body read moves bytes.
    build_upstream_head(ex, head, target.target);
    ex.body_kind = head.body;
    ex.content_length = head.content_length;
    ex.sent_content_length = head.count("Content-Length") > 0;
    ex.expect_continue = head.expect_continue;
    buffer_.consume(ex.head_bytes);
    body_.clear();
    if (ex.body_kind != http::BodyKind::none) {
        if (!co_await read_request_body(ex)) co_return false;
    }
    co_return co_await forward(ex);
}

void Session::build_upstream_head(Exchange& ex, const http::RequestHead& head, const http::TargetView& target) {
    const Snapshot& snap = *ex.snapshot;
    if (ex.request_id_size == 0) {
        char id[32];
        worker_.request_ids.next(id);
        ex.set_id({id, sizeof id});
    }
    upstream_head_.clear();
    http::append_upstream_head(upstream_head_, head, target, snap.config->upstream.url.authority,
                               snap.upstream_authorization[ex.decision.client_index].reveal(), ex.id());
    // Content-Length and the blank line follow once the body has been read (forward()).
}

asio::awaitable<bool> Session::read_request_body(Exchange& ex) {
    const auto& limits = ex.snapshot->config->limits;
    error_code ec;
    if (ex.expect_continue && buffer_.empty()) {
        client_.expires_after(limits.idle_timeout);
        co_await client_.write(ec, asio::buffer(kContinue));
        if (ec) {
            ex.code = Reason::client_closed;
            ex.status = reason_status(Reason::client_closed);
            co_return false;
        }
    }
    if (ex.body_kind == http::BodyKind::content_length) body_.reserve(static_cast<std::size_t>(ex.content_length));
    net::BodyReader reader(client_, buffer_, ex.body_kind, ex.content_length);
    while (!reader.done() && reader.error() == net::BodyError::none) {
        client_.expires_after(limits.idle_timeout);
        const auto piece = co_await reader.next();
        body_.append(piece);
        ex.bytes_in += piece.size();
        if (body_.size() > limits.max_body_bytes)
            co_return co_await send_error(ex, Reason::payload_too_large, reason_detail(Reason::payload_too_large), true);
    }
    reader.settle();
    switch (reader.error()) {
        case net::BodyError::none:
            co_return true;
        case net::BodyError::bad_framing:
            co_return co_await send_error(ex, Reason::bad_request, "invalid chunked body", true);
        case net::BodyError::io:
            if (reader.io_error() == beast::error::timeout)
                co_return co_await send_error(ex, Reason::request_timeout, reason_detail(Reason::request_timeout), true);
            [[fallthrough]];
        default:
            ex.code = Reason::client_closed;
            ex.status = reason_status(Reason::client_closed);
            co_return false;
    }
}

asio::awaitable<bool> Session::forward(Exchange& ex) {
    const Snapshot& snap = *ex.snapshot;
    const auto& upstream = snap.config->upstream;
    const auto& limits = snap.config->limits;

    if (!body_.empty() || ex.sent_content_length || ex.body_kind == http::BodyKind::chunked) {
        out_.assign("Content-Length: ");
        append_decimal(body_.size(), out_);
        out_.append("\r\n\r\n");
    } else {
        out_.assign("\r\n");
    }

    ex.forwarded = true;
    const auto upstream_started = Clock::now();
    std::unique_ptr<upstream::Connection> connection;
    struct ClearActive {
        upstream::Connection*& active;
        ~ClearActive() { active = nullptr; }
    } clear_active{upstream_};
    http::ResponseHead& response = response_;  // a member: its field vector keeps its capacity
    std::size_t response_head_bytes = 0;
    for (int attempt = 0;; ++attempt) {
        // (Two statements: GCC 12 miscompiles co_await inside a conditional expression.)
        upstream::Pool::Lease lease;
        if (attempt == 0) lease = co_await worker_.pool.acquire();
        else lease = co_await worker_.pool.connect_new();
        if (!lease.connection) {
            const auto reason = lease.error == asio::error::timed_out ? Reason::upstream_timeout : Reason::upstream_unavailable;
            spdlog::warn("upstream connect failed: {} (request {})", lease.error.message(), ex.id());
            // On a retry the request already went out once, on the connection that failed.
            if (attempt > 0) ex.upstream_ms = ms_between(upstream_started, Clock::now());
            co_return co_await send_error(ex, reason, {}, !ex.client_keep_alive);
        }
        connection = std::move(lease.connection);
        upstream_ = connection.get();  // for abort(); cleared by the guard below
        connection->expires_after(upstream.timeout);  // from forwarding until the response head
        error_code ec;
        co_await connection->write(ec, asio::buffer(upstream_head_), asio::buffer(out_), asio::buffer(body_));
        upstream::HeadError head_error = upstream::HeadError::none;
        if (ec) {
            head_error = ec == beast::error::timeout ? upstream::HeadError::timeout : upstream::HeadError::closed_before_head;
        } else {
            head_error = co_await upstream::read_response_head(*connection, ex.method == "HEAD", response,
                                                               response_head_bytes, kMaxUpstreamHeadBytes);
        }
        if (head_error == upstream::HeadError::none) break;
        connection->close();
        // A pooled connection the upstream had already given up on: try once more on a new one.
        if (head_error == upstream::HeadError::closed_before_head && lease.reused && attempt == 0 &&
            idempotent(ex.method))
            continue;
        const auto reason = head_error == upstream::HeadError::timeout ? Reason::upstream_timeout : Reason::upstream_unavailable;
        ex.upstream_ms = ms_between(upstream_started, Clock::now());  // forwarded, never answered
        spdlog::warn("upstream exchange failed ({}) for request {}", reason_code(reason), ex.id());
        co_return co_await send_error(ex, reason, {}, !ex.client_keep_alive);
    }
    ex.upstream_ms = ms_between(upstream_started, Clock::now());
    worker_.metrics.upstream_duration.observe(*ex.upstream_ms / 1000.0);
    if (response.other_coding) {
        // A coding besides chunked (gzip, ...) would reach the client still encoded once the
        // hop-by-hop Transfer-Encoding is dropped: treat it as an invalid answer.
        connection->close();
        spdlog::warn("upstream used a transfer coding other than chunked for request {}", ex.id());
        co_return co_await send_error(ex, Reason::upstream_unavailable, {}, !ex.client_keep_alive);
    }
    ex.upstream_status = response.status;

    // The client's response head, minus framing: copy now, the head's bytes move once the body is read.
    auto& head_out = upstream_head_;  // the request head has been sent; reuse its buffer
    head_out.clear();
    append_status_line(head_out, response.status,
                       response.reason_phrase.empty() ? status_phrase(response.status) : response.reason_phrase);
    for (const auto& field : response.fields) {
        const auto name = field.name;
        if (http::is_hop_by_hop(name) || response.connection_lists(name) || http::iequals(name, "X-Request-Id"))
            continue;
        // Without a body (HEAD, 304) the upstream's Content-Length describes the entity: pass it on,
        // except on a 204, where RFC 9110 §8.6 forbids it.
        if (http::iequals(name, "Content-Length") &&
            (response.body != http::BodyKind::none || response.status == 204))
            continue;
        append_field(head_out, name, field.value);
    }
    append_field(head_out, "X-Request-Id", ex.id());
    connection->buffer().consume(response_head_bytes);

    // Read up to kPrebufferBytes before answering: a response that breaks off within them still
    // becomes a clean 502 instead of a truncated 200.
    net::BodyReader reader(*connection, connection->buffer(), response.body, response.content_length);
    body_.clear();
    while (!reader.done() && reader.error() == net::BodyError::none && body_.size() < kPrebufferBytes) {
        connection->expires_after(limits.idle_timeout);
        body_.append(co_await reader.next());
    }
    if (reader.error() != net::BodyError::none) {
        connection->close();
        ex.upstream_status.reset();
        const auto reason = reader.io_error() == beast::error::timeout ? Reason::upstream_timeout : Reason::upstream_unavailable;
        co_return co_await send_error(ex, reason, {}, !ex.client_keep_alive);
    }

    const bool complete = reader.done();
    bool chunked_out = false;
    bool close_after = !ex.client_keep_alive || worker_.draining;
    if (response.body == http::BodyKind::none) {
        // framing comes from the status / request method; nothing to add
    } else if (complete) {
        head_out.append("Content-Length: ");
        append_decimal(body_.size(), head_out);
        head_out.append("\r\n");
    } else if (response.body == http::BodyKind::content_length) {
        head_out.append("Content-Length: ");
        append_decimal(response.content_length, head_out);
        head_out.append("\r\n");
    } else if (head_.version_minor >= 1) {
        head_out.append("Transfer-Encoding: chunked\r\n");
        chunked_out = true;
    } else {
        close_after = true;  // HTTP/1.0 client, length unknown: the end of the connection frames it
    }
    if (close_after) head_out.append("Connection: close\r\n");
    else if (head_.version_minor == 0) head_out.append("Connection: keep-alive\r\n");  // 1.0 closes by default
    head_out.append("\r\n");
    ex.status = response.status;

    // A client that gave up waiting on a slow upstream has closed its end by now. Its record says
    // so (499) instead of claiming an answer that the kernel would only have accepted on its
    // behalf. Peeked only after a slow answer, so fast ones pay no syscall; like nginx, a client
    // that merely half-closed counts as gone, unless it has pipelined requests on this connection
    // (then a FIN may well come before the last answer it waits for).
    pipelining_ = pipelining_ || !buffer_.empty();
    if (*ex.upstream_ms >= kClientGoneCheckAfterMs && !pipelining_ &&
        net::peek(client_.socket().native_handle()) == net::Peek::closed) {
        connection->close();  // rare: not worth settling the body for the pool
        ex.code = Reason::client_closed;
        ex.status = reason_status(Reason::client_closed);
        co_return false;
    }

    const bool record_first = worker_.audit.fsync_mode() == AuditWriter::Fsync::always;
    if (complete && record_first) {
        // The whole response is in hand: its record can be complete before any byte leaves.
        ex.bytes_out = body_.size();
        if (!co_await commit_audit(ex)) {
            if (response.keep_alive) worker_.pool.release(std::move(connection));
            else connection->close();
            const bool keep = co_await send_error(ex, Reason::audit_unavailable, {}, true);
            ex.bytes_out = ex.code == Reason::client_closed || ex.method == "HEAD" ? 0 : body_.size();
            submit_correction(ex);
            co_return keep;
        }
    }

    error_code ec;
    client_.expires_after(limits.idle_timeout);
    std::string& chunk_prefix = out_;
    std::uint64_t bytes_sent = 0;  // body bytes that reached the client (ex.bytes_out is frozen once recorded)
    auto write_piece = [&](std::string_view piece) -> asio::awaitable<void> {
        if (chunked_out) {
            chunk_prefix.clear();
            append_hex(piece.size(), chunk_prefix);
            chunk_prefix.append("\r\n");
            co_await client_.write(ec, asio::buffer(chunk_prefix), asio::buffer(piece), asio::buffer("\r\n", 2));
        } else {
            co_await client_.write(ec, asio::buffer(piece));
        }
        if (!ec) bytes_sent += piece.size();
        if (!ec && !ex.recorded) ex.bytes_out += piece.size();
    };

    // Head and the buffered body leave in one gather write: one syscall, and with TCP_NODELAY one
    // segment instead of two for a typical small answer.
    if (body_.empty()) {
        co_await client_.write(ec, asio::buffer(head_out));
    } else {
        if (chunked_out) {
            append_hex(body_.size(), head_out);
            head_out.append("\r\n");
            co_await client_.write(ec, asio::buffer(head_out), asio::buffer(body_), asio::buffer("\r\n", 2));
        } else {
            co_await client_.write(ec, asio::buffer(head_out), asio::buffer(body_));
        }
        if (!ec) {
            bytes_sent += body_.size();
            if (!ex.recorded) ex.bytes_out += body_.size();
        }
    }
    bool upstream_broke = false;
    bool audit_failed = false;
    while (!ec && !reader.done()) {
        connection->expires_after(limits.idle_timeout);
        const auto piece = co_await reader.next();
        if (reader.error() != net::BodyError::none) {
            upstream_broke = true;
            break;
        }
        if (reader.done() && record_first && !ex.recorded) {
            // A streamed response: the client cannot see it complete before this last piece (and
            // the chunked terminator), so that is what waits for the record.
            ex.bytes_out += piece.size();
            if (!co_await commit_audit(ex)) {
                audit_failed = true;
                break;
            }
        }
        if (piece.empty()) continue;
        client_.expires_after(limits.idle_timeout);
        co_await write_piece(piece);
    }
    if (!ec && !upstream_broke && !audit_failed && chunked_out) {
        co_await client_.write(ec, asio::buffer("0\r\n\r\n", 5));
    }
    reader.settle();
    if (audit_failed) {
        // Too late for a 503: the head is out. Cut the response short instead of completing it.
        spdlog::error("audit record not durable: response to request {} cut short", ex.id());
        ex.code = Reason::audit_unavailable;
        ex.bytes_out = bytes_sent;
        submit_correction(ex);
        connection->close();
        co_return false;
    }

    if (ec) {
        ex.code = Reason::client_closed;
        ex.status = reason_status(Reason::client_closed);
        connection->close();
        co_return false;
    }
    if (upstream_broke) {
        // Too late for a 502: the head is out. Cut the client off so it sees a truncated body.
        spdlog::warn("upstream response broke off mid-body for request {}", ex.id());
        ex.code = Reason::upstream_unavailable;
        connection->close();
        co_return false;
    }
    if (response.keep_alive && reader.done()) worker_.pool.release(std::move(connection));
    else connection->close();
    body_.clear();
    if (body_.capacity() > kKeepBufferBytes) body_.shrink_to_fit();
    ex.code = Reason::ok;
    co_return !close_after;
}

asio::awaitable<bool> Session::send_error(Exchange& ex, Reason reason, std::string_view detail, bool close) {
    ex.code = reason;
    ex.status = reason_status(reason);
    if (ex.request_id_size == 0) {
        char id[32];
        worker_.request_ids.next(id);
        ex.set_id({id, sizeof id});
    }
    // DRF-style details; the method is a token (no quote or backslash) but is escaped anyway.
    std::string& body = body_;
    body.clear();
    body.append("{\"detail\": \"");
    if (reason == Reason::method_not_allowed) {
        body.append("Method \\\"");
        append_json_escaped(ex.method, body);
        body.append("\\\" not allowed.");
    } else if (reason == Reason::not_authenticated) {
        append_json_escaped(ex.authorization_count == 0 ? "Authentication credentials were not provided."
                            : ex.authorization_count > 1 ? "More than one Authorization header."
                                                         : "Invalid token.",
                            body);
    } else {
        append_json_escaped(detail.empty() ? reason_detail(reason) : detail, body);
    }
    body.append("\", \"code\": \"").append(reason_code(reason)).append("\", \"request_id\": \"");
    append_json_escaped(ex.id(), body);
    body.append("\"}");

    auto& head = out_;
    head.clear();
    append_status_line(head, ex.status, status_phrase(ex.status));
    head.append("Content-Type: application/json\r\nContent-Length: ");
    append_decimal(body.size(), head);
    head.append("\r\n");
    append_field(head, "X-Request-Id", ex.id());
    if (reason == Reason::not_authenticated) head.append("WWW-Authenticate: Bearer realm=\"giosg-gateway\"\r\n");
    if (reason == Reason::method_not_allowed && ex.decision.endpoint != nullptr)
        append_field(head, "Allow", ex.decision.endpoint->allow);
    if (close) head.append("Connection: close\r\n");
    else if (head_.version_minor == 0) head.append("Connection: keep-alive\r\n");  // 1.0 closes by default
    head.append("\r\n");

    // A response to HEAD has no body (RFC 9110 §9.3.2): the client would read it as the next
    // response. The headers, Content-Length included, stay as for GET.
    const bool head_request = ex.method == "HEAD";
    if (!ex.recorded) {
        if (!head_request) ex.bytes_out += body.size();
        // A refusal goes out even when its record could not be made durable: it forwards nothing.
        (void)co_await commit_audit(ex);
    }

    const auto& limits = worker_.snapshot->config->limits;
    client_.expires_after(limits.idle_timeout);
    error_code ec;
    co_await client_.write(ec, asio::buffer(head), head_request ? asio::const_buffer{} : asio::buffer(body));
    if (ec) {
        if (!ex.recorded) ex.bytes_out = 0;
        ex.code = Reason::client_closed;
        ex.status = reason_status(Reason::client_closed);
        co_return false;
    }
    if (close) linger_ = true;
    co_return !close;
}

asio::awaitable<bool> Session::commit_audit(Exchange& ex) {
    AuditWriter& audit = worker_.audit;
    if (audit.fsync_mode() != AuditWriter::Fsync::always || ex.recorded) co_return true;
    const bool deny = worker_.snapshot->config->audit.on_failure == AuditConfig::OnFailure::deny;
    const auto ticket = record_audit(ex);
    if (ticket != 0 && ticket <= worker_.audit_ring.lost_through()) co_return !deny;
    if (ticket == 0 || worker_.audit_ring.durable() >= ticket) co_return audit.healthy() || !deny;
    bool durable = false;
    // Bounded like any client write: a disk that hangs must not hold the connection forever.
    audit_wait_.expires_after(worker_.snapshot->config->limits.idle_timeout);
    worker_.audit_waiters.push_back(AuditWaiter{ticket, &audit_wait_, &durable});
    co_await audit_wait_.async_wait(use_nothrow);
    std::erase_if(worker_.audit_waiters, [this](const AuditWaiter& w) { return w.timer == &audit_wait_; });
    // The writer logs the outage once; one line per request here would flood the log.
    if (!durable) spdlog::debug("audit: record of request {} is not on disk yet", ex.id());
    co_return durable || !deny;
}

std::uint64_t Session::record_audit(Exchange& ex) {
    if (ex.recorded) return 0;
    ex.recorded = true;
    if (ex.request_id_size == 0) {
        char id[32];
        worker_.request_ids.next(id);
        ex.set_id({id, sizeof id});
    }
    const double duration_ms = ex.started == Clock::time_point{} ? 0.0 : ms_between(ex.started, Clock::now());
    const ClientConfig* client = ex.decision.client;
    AuditRecord record;
    record.ts = ex.ts == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : ex.ts;
    record.request_id = ex.id();
    if (client != nullptr) record.client = client->name;
    record.remote = remote_;
    record.method = ex.method;
    record.path = ex.path;
    if (ex.decision.endpoint != nullptr) record.pattern = ex.decision.endpoint->pattern;
    record.allowed = ex.forwarded;
    record.code = ex.code;
    record.status = ex.status;
    record.upstream_status = ex.upstream_status;
    record.bytes_in = ex.bytes_in;
    record.bytes_out = ex.bytes_out;
    record.duration_ms = duration_ms;
    record.upstream_ms = ex.upstream_ms;
    audit_line_.clear();
    // The ring hands back its slot's buffer, empty until the ring has wrapped once: one
    // allocation of a typical record's size instead of one per doubling.
    audit_line_.reserve(kAuditLineReserve);
    append_audit_json(record, audit_line_);
    return worker_.audit.submit(worker_.audit_ring, audit_line_);
}

void Session::submit_correction(Exchange& ex) {
    audit_line_.clear();
    append_audit_correction_json(std::chrono::system_clock::now(), ex.id(), ex.code, ex.status, ex.bytes_out,
                                 audit_line_);
    worker_.audit.submit(worker_.audit_ring, audit_line_);
}

void Session::finish(Exchange& ex) {
    record_audit(ex);
    const double duration_ms = ex.started == Clock::time_point{} ? 0.0 : ms_between(ex.started, Clock::now());
    const ClientConfig* client = ex.decision.client;
    // Unauthenticated requests count under the slot after the last client.
    const std::size_t client_slot =
        client != nullptr ? ex.decision.client_index : worker_.snapshot->clients->clients().size();
    worker_.metrics.count_request(client_slot, ex.code, ex.method);
    worker_.metrics.request_duration.observe(duration_ms / 1000.0);
    if (body_.capacity() > kKeepBufferBytes) {
        body_.clear();
        body_.shrink_to_fit();
    }
    buffer_.shrink(kKeepBufferBytes);
}

}  // namespace giosg::server
