#include "admin/admin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "net/accept.hpp"
#include "net/io.hpp"

namespace giosg {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using net::use_nothrow;

struct AdminServer::Impl {
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    Metrics& metrics;
    std::function<bool()> ready;
    std::thread thread;

    Impl(Metrics& m, std::function<bool()> r) : metrics(m), ready(std::move(r)) {}

    asio::awaitable<void> serve(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer(16384);
        for (;;) {
            bhttp::request_parser<bhttp::empty_body> parser;
            parser.header_limit(8192);
            stream.expires_after(std::chrono::seconds(10));
            auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
            if (ec) co_return;  // closed, timed out or malformed: a probe simply retries
            const auto& req = parser.get();
            bhttp::response<bhttp::string_body> res;
            res.version(11);
            res.keep_alive(req.keep_alive());
            res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
            const std::string_view target = req.target();
            const std::string_view path = target.substr(0, target.find('?'));
            if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
                res.result(bhttp::status::method_not_allowed);
                res.set(bhttp::field::allow, "GET, HEAD");
                res.body() = "method not allowed\n";
            } else if (path == "/healthz") {
                res.result(bhttp::status::ok);
                res.body() = "ok\n";
            } else if (path == "/readyz") {
                const bool is_ready = ready();
                res.result(is_ready ? bhttp::status::ok : bhttp::status::service_unavailable);
                res.body() = is_ready ? "ready\n" : "not ready\n";
            } else if (path == "/metrics") {
                res.result(bhttp::status::ok);
                res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                res.body() = metrics.render();
            } else {
                res.result(bhttp::status::not_found);
                res.body() = "not found\n";
            }
            res.prepare_payload();
            if (req.method() == bhttp::verb::head) {
                // Same headers as GET, no body: a probe reusing the connection must not read it.
                const auto length = res.body().size();
                res.body().clear();
                res.content_length(length);
            }
            stream.expires_after(std::chrono::seconds(10));
            auto [wec, wn] = co_await bhttp::async_write(stream, res, use_nothrow);
            if (wec || !res.keep_alive()) co_return;
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
    : impl_(std::make_unique<Impl>(metrics, std::move(ready))) {
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
