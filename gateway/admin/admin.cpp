#include "admin/admin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/format.hpp"
#include "common/reason.hpp"
#include "http/head.hpp"
#include "http/response.hpp"
#include "net/accept.hpp"
#include "net/deadline.hpp"
#include "net/io.hpp"
#include "net/read_buffer.hpp"

namespace giosg {

// The admin listener reads requests with the gateway's own parser (http::parse_request_head) and
// writes its answers with http/response.hpp, like the proxy path, instead of running Beast's
// request_parser and serializer beside them: one HTTP/1.1 reading of the bytes in the process,
// the stricter one (bench/README.md, "Request parser: the gateway's own vs Beast's"). Every read
// and write is under a net::Deadline and a request head is bounded by kMaxHead, so a slow or
// hostile client holds at most one 8 KiB buffer for 10 s.

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using net::use_nothrow;

namespace {

constexpr std::size_t kMaxHead = 8192;               // as Beast's header_limit was
constexpr std::chrono::seconds kIoTimeout{10};       // per request head, per response

struct Answer {
    int status = 200;
    std::string_view content_type = "text/plain; charset=utf-8";
    std::string body;
    bool allow = false;  // 405: "Allow: GET, HEAD"
};

/// Writes the response head and (unless `head_only`) the body. The field order is the one
/// Beast's serializer gave before (Connection, Content-Type, Allow, Content-Length), so the
/// bytes on the wire are unchanged.
std::string write_response(const Answer& answer, bool keep_alive, bool head_only) {
    std::string out;
    out.reserve(128 + (head_only ? 0 : answer.body.size()));
    http::append_status_line(out, answer.status, status_phrase(answer.status));
    if (!keep_alive) http::append_field(out, "Connection", "close");
    http::append_field(out, "Content-Type", answer.content_type);
    if (answer.allow) http::append_field(out, "Allow", "GET, HEAD");
    out.append("Content-Length: ");
    append_uint(out, answer.body.size());
    out.append("\r\n\r\n");
    if (!head_only) out.append(answer.body);
    return out;
}

}  // namespace

struct AdminServer::Impl {
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    Metrics& metrics;
    NotReadyReasons not_ready;
    std::thread thread;

    Impl(Metrics& m, NotReadyReasons r) : metrics(m), not_ready(std::move(r)) {}

    Answer answer(const http::RequestHead& req) {
        Answer a;
        const std::string_view path = req.target.substr(0, req.target.find('?'));
        if (req.method != "GET" && req.method != "HEAD") {
            a.status = 405;
            a.allow = true;
            a.body = "method not allowed\n";
        } else if (path == "/healthz") {
            a.body = "ok\n";
        } else if (path == "/readyz") {
            const auto reasons = not_ready();
            a.status = reasons.empty() ? 200 : 503;
            a.content_type = "application/json";
            a.body = reasons.empty() ? "{\"ready\": true}" : "{\"ready\": false, \"reasons\": [";
            for (std::size_t i = 0; i < reasons.size(); ++i)  // fixed words of ours: nothing to escape
                a.body.append(i == 0 ? "\"" : ", \"").append(reasons[i]).append("\"");
            if (!reasons.empty()) a.body.append("]}");
            a.body.push_back('\n');
        } else if (path == "/metrics") {
            a.content_type = "text/plain; version=0.0.4; charset=utf-8";
            a.body = metrics.render();
        } else {
            a.status = 404;
            a.body = "not found\n";
        }
        return a;
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        net::Deadline deadline(socket.get_executor(), socket, net::Deadline::OnExpiry::close);
        net::ReadBuffer buffer;
        http::RequestHead req;
        for (;;) {
            deadline.expires_after(kIoTimeout);
            http::ParseResult parsed;
            for (;;) {
                parsed = http::parse_request_head(buffer.view(), kMaxHead, req);
                if (parsed.status != http::ParseStatus::need_more) break;
                // need_more means fewer than kMaxHead bytes are buffered, so this stays bounded.
                auto [ec, n] = co_await socket.async_read_some(buffer.prepare(kMaxHead - buffer.size()), use_nothrow);
                if (ec) co_return;  // closed or timed out: a probe simply retries
                buffer.commit(n);
            }
            // Malformed, too large, or with a body (no admin path takes one): closed unanswered,
            // as before.
            if (parsed.status == http::ParseStatus::error || req.body != http::BodyKind::none) co_return;
            const bool keep_alive = req.keep_alive;
            // HEAD: the same head as GET, no body, so that a probe reusing the connection stays in step.
            const std::string out = write_response(answer(req), keep_alive, req.method == "HEAD");
            buffer.consume(parsed.head_bytes);  // `req` points into it: used up above
            deadline.expires_after(kIoTimeout);
            auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), use_nothrow);
            if (wec || !keep_alive) co_return;
        }
    }

    asio::awaitable<void> accept_loop() {
        net::AcceptBackoff backoff("admin");
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec) {
                if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
                co_await backoff.after_error(ec);
                continue;
            }
            asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
        }
    }
};

AdminServer::AdminServer(const HostPort& listen, Metrics& metrics, NotReadyReasons not_ready)
    : impl_(std::make_unique<Impl>(metrics, std::move(not_ready))) {
    const tcp::endpoint endpoint = net::listen_endpoint(listen.host, listen.port, "/admin_listen");
    net::open_listener(impl_->acceptor, endpoint, false, false, "/admin_listen");
    port_ = impl_->acceptor.local_endpoint().port();
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

void AdminServer::stop() {
    if (!impl_) return;
    asio::post(impl_->ioc, [this] {
        net::error_code ec;
        impl_->acceptor.close(ec);
    });
    impl_->ioc.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace giosg
