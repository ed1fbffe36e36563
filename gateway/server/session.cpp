#include "server/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

#include "common/format.hpp"
#include "http/forward.hpp"
#include "http/request_id.hpp"
#include "http/target.hpp"
#include "identity/identify.hpp"
#include "limits/limit.hpp"
#include "net/peer_certificate.hpp"
#include "net/unix_listener.hpp"
#include "policy/decision.hpp"

namespace giosg::server {

using net::error_code;

namespace {
std::string format_remote(const tcp::socket& socket) {
    error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    const auto addr = ep.address();
    if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
    return addr.to_string() + ":" + std::to_string(ep.port());
}
}  // namespace

Session::Session(Worker& worker, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : worker_(worker),
      tls_context_(std::move(tls)),
      client_(tls_context_ ? net::ClientStream(std::move(socket), *tls_context_) : net::ClientStream(std::move(socket))),
      remote_(format_remote(*client_.tcp_socket())),
      tls_(tls_context_ != nullptr),
      audit_wait_(worker.ioc) {
    error_code ec;
    client_.tcp_socket()->set_option(tcp::no_delay(true), ec);
    worker_.sessions.insert(this);
    worker_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
}

Session::Session(Worker& worker, net::unix_socket socket)
    : worker_(worker), client_(std::move(socket)), audit_wait_(worker.ioc) {
    peer_.uid = net::peer_uid(client_.native_handle());
    // The audit "remote" of a unix peer (docs/audit.md).
    remote_ = peer_.uid ? "unix:uid=" + std::to_string(*peer_.uid) : std::string("unix:uid=unknown");
    worker_.sessions.insert(this);
    worker_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
}

Session::Session(Worker& worker, tcp::socket socket, std::string remote)
    : worker_(worker), client_(std::move(socket)), remote_(std::move(remote)), audit_wait_(worker.ioc) {
    worker_.sessions.insert(this);
}

Session::~Session() {
    worker_.sessions.erase(this);
    if (!parked_) worker_.metrics.connections_closed.fetch_add(1, std::memory_order_relaxed);
}

bool Session::close_if_idle() noexcept {
    if (!idle_ || !buffer_.empty()) return false;
    closed_ = true;
    client_.close();
    return true;
}

void Session::abort() noexcept {
    closed_ = true;
    client_.close();
    if (upstream_ != nullptr) upstream_->close();
    audit_wait_.cancel();
}

asio::awaitable<void> run_session(Worker& worker, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls) {
    Session session(worker, std::move(socket), std::move(tls));
    co_await session.run();
}

asio::awaitable<void> run_session(Worker& worker, net::unix_socket socket) {
    Session session(worker, std::move(socket));
    co_await session.run();
}

asio::awaitable<void> resume_session(Worker& worker, tcp::socket socket, std::string remote) {
    Session session(worker, std::move(socket), std::move(remote));
    co_await session.run();
}

void spawn_session(Worker& worker, asio::awaitable<void> session) {
    asio::co_spawn(worker.ioc, std::move(session), [](std::exception_ptr ep) {
        if (!ep) return;
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            spdlog::error("session ended by an exception: {}", e.what());
        }
    });
}

// A failed or slow handshake costs the worker nothing past tls.handshake_timeout_ms: the
// connection is closed unanswered and counted (giosg_gateway_tls_handshake_failures_total).
asio::awaitable<bool> Session::handshake() {
    const auto& config = *worker_.snapshot->config;  // not used past the co_await below
    client_.expires_after(config.tls ? config.tls->handshake_timeout : config.limits.header_timeout);
    if (const auto ec = co_await client_.handshake()) {
        worker_.metrics.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::debug("TLS handshake with {} failed: {}", remote_, ec.message());
        co_return false;
    }
    peer_.certificate = net::verified_peer_certificate(client_.ssl());
    co_return true;
}

asio::awaitable<void> Session::run() {
    if (tls_ && !co_await handshake()) {
        client_.close();
        co_return;
    }
    Exchange ex;
    bool first = true;
    while (!closed_) {
        ex.reset();
        const auto outcome = co_await read_request_head(ex, first);
        first = false;
        if (outcome == HeadOutcome::park) {
            // Nothing of this session is needed while the connection idles: its frames and
            // buffers go, the socket waits among the worker's parked connections.
            worker_.parked.park(client_.release_tcp(), std::move(remote_), idle_until_);
            parked_ = true;  // after: if parking threw, the socket is gone and this session counts it closed
            co_return;
        }
        if (outcome == HeadOutcome::idle_closed) break;
        bool keep = false;
        if (!co_await reserve_audit_room(ex)) {
            keep = co_await refuse_for_backlog(ex, outcome == HeadOutcome::ok);
        } else if (outcome == HeadOutcome::error) {
            co_await respond_error(ex, ex.code, ex.detail, true);
        } else {
            keep = co_await handle(ex);
        }
        finish(ex);
        if (!keep || worker_.draining) break;
    }
    if (linger_ && !closed_) co_await linger_close();
    // TLS ends with close_notify: without it a client cannot tell a response framed by the
    // close (HTTP/1.0) from a cut one. Bounded: a peer that never answers costs at most this.
    if (tls_ && !closed_ && !linger_) {
        client_.expires_after(std::chrono::milliseconds(500));
        co_await client_.shutdown_tls();
    }
    client_.close();
}

// The stages after the head has been read, in the order of docs/reference.md §3. The first one
// that refuses answers; a refused request's body is never read (so never parsed as a next
// request): the connection then closes instead.
asio::awaitable<bool> Session::handle(Exchange& ex) {
    const http::RequestHead& head = head_;
    const Snapshot& snap = *ex.snapshot;
    const auto& limits = snap.config->limits;

    // read: what the later stages keep of the head.
    if (const auto id = head.find("X-Request-Id"); id && head.count("X-Request-Id") == 1 && http::valid_request_id(*id))
        ex.id.assign(*id);
    ex.method.assign(head.method);
    if (const auto host = head.find("Host")) {
        ex.host.assign(*host);
        ex.has_host = true;
    }
    ex.version_minor = head.version_minor;
    ex.client_keep_alive = head.keep_alive;
    const auto target = http::parse_target(head.target);
    if (!target.ok) {
        ex.set_refused_path(head.target);
        co_return co_await respond_error(ex, Reason::bad_request, target.detail, true);
    }
    ex.path.assign(target.target.path);
    if (head.body == http::BodyKind::content_length && head.content_length > limits.max_body_bytes)
        co_return co_await respond_error(ex, Reason::payload_too_large, reason_detail(Reason::payload_too_large), true);
    const bool close_on_refusal = head.body != http::BodyKind::none || !head.keep_alive;
    const auto refuse = [&](Reason reason, std::string_view detail) {
        buffer_.consume(ex.head_bytes);
        return respond_error(ex, reason, detail, close_on_refusal);
    };

    // identify
    ex.identity = identify(*snap.clients,
                           PresentedCredentials{head.find("Authorization").value_or(std::string_view{}),
                                                head.count("Authorization"), &peer_},
                           ex.ts, &worker_.jwt_cache);
    if (!ex.identity.known()) co_return co_await refuse(ex.identity.reason, ex.identity.detail);

    // decide
    ex.decision = decide_for_client(*snap.policy, *ex.identity.client, head.method, target.target.path,
                                    http::carries_method_override(head));
    ex.decision.client_index = ex.identity.client_index;
    if (!ex.decision.allowed()) co_return co_await refuse(ex.decision.reason, ex.decision.detail);

    // limit
    if (const auto verdict = co_await limit_request(ex); !verdict.admitted())
        co_return co_await refuse(verdict.reason, {});

    // record, ahead of the forward: with audit.on_failure "deny", nothing is forwarded while
    // records cannot be written.
    if (!worker_.audit.healthy() && snap.config->audit.on_failure == AuditConfig::OnFailure::deny)
        co_return co_await refuse(Reason::audit_unavailable, {});

    // forward: everything taken from the head is copied before the body read moves its bytes.
    worker_.request_ids.ensure(ex.id);
    upstream_head_.clear();
    ex.dropped_headers = static_cast<std::uint32_t>(
        http::append_upstream_head(upstream_head_, head, target.target, snap.config->upstream.url.authority,
                                   snap.upstream_authorization[ex.identity.client_index].reveal(), ex.id.view()));
    if (ex.dropped_headers > 0) worker_.metrics.dropped_headers.fetch_add(ex.dropped_headers, std::memory_order_relaxed);
    ex.body_kind = head.body;
    ex.content_length = head.content_length;
    ex.sent_content_length = head.count("Content-Length") > 0;
    ex.expect_continue = head.expect_continue;
    buffer_.consume(ex.head_bytes);
    body_.clear();
    if (ex.body_kind != http::BodyKind::none && !co_await read_request_body(ex)) co_return false;

    // The request's framing: the body has been read whole, so it goes with a Content-Length.
    out_.clear();
    if (!body_.empty() || ex.sent_content_length || ex.body_kind == http::BodyKind::chunked) {
        out_.append("Content-Length: ");
        append_uint(out_, body_.size());
        out_.append("\r\n");
    }
    out_.append("\r\n");
    ex.forwarded = true;
    auto forwarded = co_await upstream::forward_request(
        worker_.pool,
        upstream::ForwardRequest{{asio::buffer(upstream_head_), asio::buffer(out_), asio::buffer(body_)},
                                 ex.method, ex.id.view(), snap.config->upstream.timeout},
        response_, upstream_);
    ex.upstream_ms = forwarded.upstream_ms;
    if (forwarded.answered) worker_.metrics.upstream_duration.observe(*forwarded.upstream_ms / 1000.0);
    if (forwarded.reason != Reason::ok)
        co_return co_await respond_error(ex, forwarded.reason, {}, !ex.client_keep_alive);
    if (response_.status == 429) note_upstream_429(ex);

    // relay (and record, as the response completes)
    co_return co_await relay_response(ex, forwarded);
}

}  // namespace giosg::server
