#pragma once
// One client connection, and the runner of the stages each of its requests passes through
// (docs/architecture.md):
//
//   read → identify → decide → limit → forward → relay → record
//
// Requests are read in order, so pipelined requests are answered in order. The session owns the
// connection and the buffers reused from one request to the next; the stages' decisions live in
// their own folders (identity/, policy/, limits/, upstream/forward, relay/, audit/), and the
// stages that do I/O on the client are Session members in server/*_stage.cpp. Registered with
// its worker for draining.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>

#include "http/head.hpp"
#include "net/client_stream.hpp"
#include "net/read_buffer.hpp"
#include "server/exchange.hpp"
#include "server/worker.hpp"
#include "upstream/forward.hpp"

namespace giosg::server {

class Session {
public:
    /// A TCP connection; with `tls`, TLS is handshaken first (under tls.handshake_timeout_ms).
    Session(Worker& worker, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls);
    /// A unix socket connection: the peer's uid (SO_PEERCRED) is what the connection proves.
    Session(Worker& worker, net::unix_socket socket);
    /// A parked plain TCP connection that turned readable (server/parked.hpp): counted as accepted
    /// already, options set already.
    Session(Worker& worker, tcp::socket socket, std::string remote);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    asio::awaitable<void> run();
    /// Closes the connection if it is waiting for a next request (draining); true when it did.
    bool close_if_idle() noexcept;
    /// Closes the client connection and any upstream exchange in flight (drain period over);
    /// the request still gets its audit record, as client_closed.
    void abort() noexcept;

private:
    static constexpr std::size_t kKeepBufferBytes = 65536;  // buffers shrink back to this after a big body

    /// TLS only: the handshake under its own deadline; false when it failed (counted).
    asio::awaitable<bool> handshake();
    // The stage runner (session.cpp): true when the connection may carry another request.
    asio::awaitable<bool> handle(Exchange& ex);

    // read (read_stage.cpp)
    /// park: idle for kParkAfter with nothing buffered; the connection goes to the worker's
    /// parked connections and this session ends.
    enum class HeadOutcome : std::uint8_t { ok, idle_closed, error, park };
    asio::awaitable<HeadOutcome> read_request_head(Exchange& ex, bool first_request);
    asio::awaitable<bool> read_request_body(Exchange& ex);
    asio::awaitable<void> linger_close();

    // limit (limit_stage.cpp)
    /// The limits of docs/reference.md "Rate limits"; a refusal's fields land in ex.limit_fields.
    asio::awaitable<limits::LimitVerdict> limit_request(Exchange& ex);
    asio::awaitable<limits::LimitVerdict> shared_rates(Exchange& ex);
    /// Giosg answered 429: with a Retry-After, the credential's calls are held until then.
    void note_upstream_429(Exchange& ex);

    // relay (relay_stage.cpp)
    asio::awaitable<bool> relay_response(Exchange& ex, upstream::ForwardOutcome& forwarded);
    /// Answers with a gateway-made error; `close` ends the connection after it.
    asio::awaitable<bool> respond_error(Exchange& ex, Reason reason, std::string_view detail, bool close);

    // record (record_stage.cpp)
    /// Room in the audit queue for this request's record, taken before it is forwarded or
    /// refused (docs/audit.md "Under load"). False when, under on_failure "deny", none came within
    /// audit.queue_wait_ms; the worker serves its other connections meanwhile.
    asio::awaitable<bool> reserve_audit_room(Exchange& ex);
    /// The answer when there was no room: 503 audit_unavailable, counted in a backlog record.
    asio::awaitable<bool> refuse_for_backlog(Exchange& ex, bool head_complete);
    /// Under audit.fsync "always": writes the record now, as the response is about to complete,
    /// and waits until it is on disk. False when it could not be made durable and
    /// audit.on_failure is "deny". Elsewhere a no-op returning true (the record follows the response).
    asio::awaitable<bool> commit_audit(Exchange& ex);
    /// Submits the audit record (once per request); returns its durability ticket.
    std::uint64_t record_audit(Exchange& ex);
    /// Submits audit_line_, with one of the exchange's reservations if it holds any.
    std::uint64_t submit_line(Exchange& ex);
    /// After a recorded response ended otherwise than its record says (audit_unavailable).
    void submit_correction(Exchange& ex);
    /// The request is over: its record (if not yet), its metrics, buffers back to their size.
    void finish(Exchange& ex);

    Worker& worker_;
    std::shared_ptr<asio::ssl::context> tls_context_;  // the one this connection was handshaken with
    net::ClientStream client_;
    std::string remote_;
    bool tls_ = false;
    Peer peer_;                                 // what the connection proves: certificate or uid
    net::ReadBuffer buffer_;
    bool idle_ = true;
    bool closed_ = false;
    bool pipelining_ = false;                   // a request came before the previous one was answered
    bool linger_ = false;                       // closing after an error: drain before close
    bool parked_ = false;                       // the socket went on to the parked connections
    std::chrono::steady_clock::time_point idle_until_;  // with a park: the end of idle_timeout
    upstream::Connection* upstream_ = nullptr;  // the upstream exchange in flight, if any
    asio::steady_timer audit_wait_;             // commit_audit's wait; cancelled to wake it
    http::RequestHead head_;
    http::ResponseHead response_;
    // Reused between requests so that a keep-alive connection allocates nothing in steady state.
    std::string upstream_head_;
    std::string body_;
    std::string out_;
    std::string audit_line_;
};

asio::awaitable<void> run_session(Worker& worker, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls);
/// A parked connection's next request (server/parked.hpp).
asio::awaitable<void> resume_session(Worker& worker, tcp::socket socket, std::string remote);
/// Starts a session coroutine on the worker; an exception that ends one is logged, not rethrown.
void spawn_session(Worker& worker, asio::awaitable<void> session);
asio::awaitable<void> run_session(Worker& worker, net::unix_socket socket);

}  // namespace giosg::server
