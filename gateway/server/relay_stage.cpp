// The relay stage (docs/architecture.md): the upstream's answer to the client, head and body,
// and the gateway's own error responses. The answer's first 64 KiB are read before any byte
// leaves, so an answer that breaks off early still becomes a clean 502.
#include <boost/beast/core/error.hpp>
#include <spdlog/spdlog.h>

#include "common/format.hpp"
#include "http/error_response.hpp"
#include "net/peek.hpp"
#include "relay/body_rewrite.hpp"
#include "relay/client_head.hpp"
#include "server/session.hpp"

namespace giosg::server {

using net::error_code;

namespace {
constexpr std::size_t kPrebufferBytes = 65536;   // responses up to this size are checked whole

struct JsonRewrite {
    std::optional<relay::ContentCoding> coding;  // set: read the body whole and rewrite its links
    std::optional<relay::SkipReason> skipped;    // a JSON body that cannot be rewritten, and why
};

// Whether the upstream's answer is a JSON body whose links the relay rewrites: only JSON
// (application/json or +json) in identity or gzip coding, never the body-less answers.
JsonRewrite json_body_to_rewrite(const Exchange& ex, const http::ResponseHead& response, std::size_t max_bytes) {
    JsonRewrite result;
    if (ex.head_request() || response.body == http::BodyKind::none || max_bytes == 0) return result;
    std::optional<std::string_view> content_type;
    std::optional<std::string_view> content_encoding;
    for (const auto& field : response.fields) {
        if (http::iequals(field.name, "Content-Type")) content_type = field.value;
        else if (http::iequals(field.name, "Content-Encoding")) content_encoding = field.value;
    }
    if (!content_type || !relay::is_json_media_type(*content_type)) return result;
    result.coding = relay::parse_content_coding(content_encoding);
    if (!result.coding) result.skipped = relay::SkipReason::unsupported_encoding;
    return result;
}
constexpr double kClientGoneCheckAfterMs = 10;   // after a slower answer: is the client still there?
}  // namespace

asio::awaitable<bool> Session::relay_response(Exchange& ex, upstream::ForwardOutcome& forwarded) {
    const auto& limits = ex.snapshot->config->limits;
    const http::ResponseHead& response = response_;
    auto& connection = forwarded.connection;
    ex.upstream_status = response.status;

    // Links onto the upstream's origin would send clients, with their internal key, straight to
    // giosg: Location headers and JSON `next`/`previous` are rewritten (docs/reference.md §6).
    const Snapshot& snap = *ex.snapshot;
    relay::LinkContext links(snap.upstream_origin, snap.public_origin, tls_ ? "https" : "http",
                             ex.has_host ? std::optional<std::string_view>(ex.host) : std::nullopt);
    const auto rewrite = json_body_to_rewrite(ex, response, limits.max_rewrite_bytes);
    if (rewrite.skipped) worker_.metrics.count_rewrite_skipped(*rewrite.skipped);

    // The client's response head, minus framing: copy now, the head's bytes move once the body is read.
    auto& head_out = upstream_head_;  // the request head has been sent; reuse its buffer
    head_out.clear();
    std::string& held_validators = out_;
    held_validators.clear();
    relay::append_client_fields(head_out, response, ex.id.view(), links,
                                rewrite.coding ? &held_validators : nullptr);
    connection->buffer().consume(forwarded.head_bytes);

    net::BodyReader reader(*connection, connection->buffer(), response.body, response.content_length);
    body_.clear();
    bool rewritten = false;
    if (rewrite.coding) {
        // A JSON body is read whole (bounded by max_rewrite_bytes) to rewrite its links; past the
        // bound, or when it is not valid JSON, what was read goes out unchanged and the rest streams.
        relay::BodyRewriter rewriter(*rewrite.coding, links, limits.max_rewrite_bytes);
        bool gave_up = false;
        while (!reader.done() && reader.error() == net::BodyError::none) {
            connection->expires_after(limits.idle_timeout);
            const std::string_view piece = co_await reader.next();
            const bool last = reader.done() && reader.error() == net::BodyError::none;
            if (rewriter.feed(piece, last) == relay::BodyRewriter::Feed::skip) {
                gave_up = true;
                break;
            }
        }
        if (gave_up) {
            worker_.metrics.count_rewrite_skipped(*rewriter.skip_reason());
            body_ = rewriter.take_buffered();
        } else if (reader.error() == net::BodyError::none) {
            auto result = rewriter.finish();
            if (result.skipped) worker_.metrics.count_rewrite_skipped(*result.skipped);
            rewritten = result.changed;
            body_ = std::move(result.body);
        }
    } else {
        // Read up to kPrebufferBytes before answering: a response that breaks off within them still
        // becomes a clean 502 instead of a truncated 200.
        while (!reader.done() && reader.error() == net::BodyError::none && body_.size() < kPrebufferBytes) {
            connection->expires_after(limits.idle_timeout);
            body_.append(co_await reader.next());
        }
    }
    if (reader.error() != net::BodyError::none) {
        connection->close();
        ex.upstream_status.reset();
        const auto reason = reader.io_error() == boost::beast::error::timeout ? Reason::upstream_timeout : Reason::upstream_unavailable;
        co_return co_await respond_error(ex, reason, {}, !ex.client_keep_alive);
    }
    // ETag and Content-MD5 describe the upstream's bytes: they pass only with those bytes.
    if (!rewritten) head_out.append(held_validators);

    const bool complete = reader.done();
    const auto framing = relay::choose_framing(response, complete, ex.version_minor);
    const bool chunked_out = framing == relay::Framing::chunked;
    const bool close_after = !ex.client_keep_alive || worker_.draining || framing == relay::Framing::until_close;
    relay::append_client_framing(head_out, framing, complete ? body_.size() : response.content_length, close_after,
                                 ex.version_minor);
    ex.status = response.status;

    // A client that gave up waiting on a slow upstream has closed its end by now. Its record says
    // so (499) instead of claiming an answer that the kernel would only have accepted on its
    // behalf. Peeked only after a slow answer, so fast ones pay no syscall; like nginx, a client
    // that merely half-closed counts as gone, unless it has pipelined requests on this connection
    // (then a FIN may well come before the last answer it waits for).
    pipelining_ = pipelining_ || !buffer_.empty();
    if (*ex.upstream_ms >= kClientGoneCheckAfterMs && !pipelining_ &&
        net::peek(client_.native_handle()) == net::Peek::closed) {
        connection->close();  // rare: not worth settling the body for the pool
        ex.client_left();
        co_return false;
    }

    const bool record_first = worker_.audit.fsync_mode() == AuditWriter::Fsync::always;
    if (complete && record_first) {
        // The whole response is in hand: its record can be complete before any byte leaves.
        ex.bytes_out = body_.size();
        if (!co_await commit_audit(ex)) {
            if (response.keep_alive) worker_.pool.release(std::move(connection));
            else connection->close();
            const bool keep = co_await respond_error(ex, Reason::audit_unavailable, {}, true);
            ex.bytes_out = ex.code == Reason::client_closed || ex.head_request() ? 0 : body_.size();
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
            append_hex_uint(chunk_prefix, piece.size());
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
            append_hex_uint(head_out, body_.size());
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
        spdlog::error("audit record not durable: response to request {} cut short", ex.id.view());
        ex.code = Reason::audit_unavailable;
        ex.bytes_out = bytes_sent;
        submit_correction(ex);
        connection->close();
        co_return false;
    }

    if (ec) {
        ex.client_left();
        connection->close();
        co_return false;
    }
    if (upstream_broke) {
        // Too late for a 502: the head is out. Cut the client off so it sees a truncated body.
        spdlog::warn("upstream response broke off mid-body for request {}", ex.id.view());
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

asio::awaitable<bool> Session::respond_error(Exchange& ex, Reason reason, std::string_view detail, bool close) {
    ex.code = reason;
    ex.status = reason_status(reason);
    worker_.request_ids.ensure(ex.id);
    http::make_error_response(
        http::ErrorReply{.reason = reason,
                         .detail = detail,
                         .method = ex.method,
                         .request_id = ex.id.view(),
                         .allow = ex.decision.endpoint != nullptr ? std::string_view(ex.decision.endpoint->allow)
                                                                  : std::string_view{},
                         .extra_fields = ex.limit_fields,
                         .close = close,
                         .version_minor = ex.version_minor},
        out_, body_);

    // A response to HEAD has no body (RFC 9110 §9.3.2): the client would read it as the next
    // response. The headers, Content-Length included, stay as for GET.
    const bool head_request = ex.head_request();
    if (!ex.recorded) {
        if (!head_request) ex.bytes_out += body_.size();
        // A refusal goes out even when its record could not be made durable: it forwards nothing.
        (void)co_await commit_audit(ex);
    }

    client_.expires_after(ex.snapshot->config->limits.idle_timeout);
    error_code ec;
    co_await client_.write(ec, asio::buffer(out_), head_request ? asio::const_buffer{} : asio::buffer(body_));
    if (ec) {
        if (!ex.recorded) ex.bytes_out = 0;
        ex.client_left();
        co_return false;
    }
    if (close) linger_ = true;
    co_return !close;
}

}  // namespace giosg::server
