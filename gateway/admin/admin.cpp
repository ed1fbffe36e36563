#include "admin/admin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/ascii.hpp"
#include "common/format.hpp"
#include "common/json_escape.hpp"
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
constexpr std::string_view kJson = "application/json";

struct Answer {
    int status = 200;
    std::string_view content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string_view allow;          // 405: the methods the path takes
    bool authenticate = false;       // 401: WWW-Authenticate
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
    if (!answer.allow.empty()) http::append_field(out, "Allow", answer.allow);
    if (answer.authenticate) http::append_field(out, "WWW-Authenticate", "Bearer realm=\"giosg-gateway-admin\"");
    out.append("Content-Length: ");
    append_uint(out, answer.body.size());
    out.append("\r\n\r\n");
    if (!head_only) out.append(answer.body);
    return out;
}

void append_string_array(std::string& out, const std::vector<std::string>& items) {
    out.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.append(", ");
        out.push_back('"');
        append_json_escaped(items[i], out);
        out.push_back('"');
    }
    out.push_back(']');
}

Answer json_answer(int status, std::string body) {
    Answer a;
    a.status = status;
    a.content_type = kJson;
    a.body = std::move(body);
    a.body.push_back('\n');
    return a;
}

Answer error_answer(int status, std::string_view code, std::string_view detail) {
    std::string body = "{\"detail\": \"";
    append_json_escaped(detail, body);
    body.append("\", \"code\": \"");
    body.append(code);
    body.append("\"}");
    return json_answer(status, std::move(body));
}

Answer reload_answer(const AdminReloadResult& r) {
    std::string body;
    if (r.ok) {
        body = "{\"reloaded\": true, \"config_sha256\": \"" + r.config_sha256 + "\"";
    } else {
        body = "{\"reloaded\": false, \"errors\": ";
        append_string_array(body, r.errors);
    }
    if (!r.warnings.empty()) {
        body.append(", \"warnings\": ");
        append_string_array(body, r.warnings);
    }
    body.push_back('}');
    return json_answer(r.ok ? 200 : 422, std::move(body));
}

/// The token of "Authorization: Bearer <token>" (scheme case-insensitive), if that is the form.
std::optional<std::string_view> bearer_token(const http::RequestHead& req) {
    if (req.count("Authorization") != 1) return std::nullopt;
    std::string_view value = *req.find("Authorization");
    constexpr std::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (ascii_lower(value[i]) != kScheme[i]) return std::nullopt;
    value.remove_prefix(kScheme.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (value.empty()) return std::nullopt;
    return value;
}

}  // namespace

struct AdminServer::Impl {
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    Metrics& metrics;
    AdminHooks hooks;
    std::optional<KeyDigest> token;  // admin thread only
    std::thread thread;

    Impl(Metrics& m, AdminHooks h) : metrics(m), hooks(std::move(h)) {}

    bool authorized(const http::RequestHead& req) const {
        if (!token) return true;
        const auto presented = bearer_token(req);
        return presented && digest_equal(sha256(*presented), *token);
    }

    /// The answer to every path but POST /reload (nullopt for that one: it waits for the reload).
    std::optional<Answer> answer(const http::RequestHead& req) {
        const std::string_view path = req.target.substr(0, req.target.find('?'));
        const bool open_path = path == "/healthz" || path == "/readyz";
        if (!open_path && !authorized(req)) {
            auto a = error_answer(401, reason_code(Reason::not_authenticated),
                                  "This admin path needs \"Authorization: Bearer <admin token>\".");
            a.authenticate = true;
            return a;
        }
        const bool is_get = req.method == "GET" || req.method == "HEAD";
        if (path == "/reload" && hooks.reload) {
            if (req.method == "POST") return std::nullopt;
            Answer a = error_answer(405, reason_code(Reason::method_not_allowed), "Use POST /reload.");
            a.allow = "POST";
            return a;
        }
        if (!is_get) {
            Answer a;
            a.status = 405;
            a.allow = "GET, HEAD";
            a.body = "method not allowed\n";
            return a;
        }
        Answer a;
        if (path == "/healthz") {
            a.body = "ok\n";
        } else if (path == "/readyz") {
            const auto reasons = hooks.not_ready ? hooks.not_ready() : std::vector<std::string>{};
            if (reasons.empty()) return json_answer(200, "{\"ready\": true}");
            std::string body = "{\"ready\": false, \"reasons\": ";
            append_string_array(body, reasons);
            body.push_back('}');
            return json_answer(503, std::move(body));
        } else if (path == "/metrics") {
            a.content_type = "text/plain; version=0.0.4; charset=utf-8";
            a.body = metrics.render();
        } else {
            a.status = 404;
            a.body = "not found\n";
        }
        return a;
    }

    /// Runs the reload hook and waits (on this thread's io_context) for its result.
    asio::awaitable<Answer> reload() {
        struct Wait {
            explicit Wait(asio::io_context& ioc) : timer(ioc, asio::steady_timer::time_point::max()) {}
            asio::steady_timer timer;
            std::optional<AdminReloadResult> result;
        };
        auto wait = std::make_shared<Wait>(ioc);
        hooks.reload([wait, executor = ioc.get_executor()](AdminReloadResult result) {
            asio::post(executor, [wait, result = std::move(result)]() mutable {
                wait->result = std::move(result);
                wait->timer.cancel();
            });
        });
        (void)co_await wait->timer.async_wait(use_nothrow);
        if (!wait->result) co_return error_answer(503, "reload_unavailable", "The gateway is stopping.");
        co_return reload_answer(*wait->result);
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
            // Malformed, too large, or with a body (no admin path takes one; POST /reload
            // with an empty one is fine): closed unanswered, as before.
            if (parsed.status == http::ParseStatus::error) co_return;
            if (req.body != http::BodyKind::none &&
                !(req.body == http::BodyKind::content_length && req.content_length == 0))
                co_return;
            const bool keep_alive = req.keep_alive;
            const bool head_only = req.method == "HEAD";
            auto answer_now = answer(req);
            buffer.consume(parsed.head_bytes);  // `req` points into it: used up above
            Answer a;
            if (answer_now) {
                a = std::move(*answer_now);
            } else {
                deadline.clear();  // a reload with a live catalogue fetch may take a while
                a = co_await reload();
            }
            // HEAD: the same head as GET, no body, so that a probe reusing the connection stays in step.
            const std::string out = write_response(a, keep_alive, head_only);
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

AdminServer::AdminServer(const HostPort& listen, Metrics& metrics, std::function<bool()> ready)
    : AdminServer(listen, metrics,
                  AdminHooks{.not_ready = [ready = std::move(ready)] {
                                 return ready() ? std::vector<std::string>{} : std::vector<std::string>{"not_ready"};
                             },
                             .reload = {}}) {}

AdminServer::AdminServer(const HostPort& listen, Metrics& metrics, AdminHooks hooks)
    : impl_(std::make_unique<Impl>(metrics, std::move(hooks))) {
    const tcp::endpoint endpoint = net::listen_endpoint(listen.host, listen.port, "/admin_listen");
    net::open_listener(impl_->acceptor, endpoint, false, false, "/admin_listen");
    port_ = impl_->acceptor.local_endpoint().port();
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::set_token(std::optional<KeyDigest> digest) {
    asio::post(impl_->ioc, [impl = impl_.get(), digest] { impl->token = digest; });
}

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
