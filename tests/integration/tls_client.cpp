#include "tls_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <functional>

#include "run_until.hpp"

namespace giosg::testing {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct TlsConnection::Impl {
    asio::io_context ioc;
    ssl::context ctx{ssl::context::tls_client};
    std::unique_ptr<ssl::stream<tcp::socket>> stream;
    boost::beast::flat_buffer buffer;
    std::string alpn_wire;

    // Runs the io_context until `done` or the timeout; cancels what is left.
    void run_for(std::chrono::milliseconds timeout, const bool& done) {
        run_until_done(ioc, timeout, done, [&] {
            boost::system::error_code ec;
            stream->next_layer().cancel(ec);
        });
    }
};

TlsConnection::TlsConnection(std::uint16_t port, const TlsClientOptions& options) : impl_(std::make_unique<Impl>()) {
    auto& ctx = impl_->ctx;
    SSL_CTX* native = ctx.native_handle();
    if (options.min_version != 0) {
        SSL_CTX_set_security_level(native, 0);  // lets the client offer TLS 1.0 / 1.1 at all
        SSL_CTX_set_min_proto_version(native, options.min_version);
    }
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(native, options.max_version);
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.load_verify_file(options.ca_file.string());
    if (!options.cert_file.empty()) {
        ctx.use_certificate_chain_file(options.cert_file.string());
        ctx.use_private_key_file(options.key_file.string(), ssl::context::pem);
    }
    for (const auto& protocol : options.alpn) {
        impl_->alpn_wire.push_back(static_cast<char>(protocol.size()));
        impl_->alpn_wire += protocol;
    }
    if (!impl_->alpn_wire.empty())
        SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(impl_->alpn_wire.data()),
                                static_cast<unsigned>(impl_->alpn_wire.size()));
    impl_->stream = std::make_unique<ssl::stream<tcp::socket>>(impl_->ioc, ctx);
    impl_->stream->set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(impl_->stream->native_handle(), "localhost");
    impl_->stream->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

TlsConnection::~TlsConnection() = default;

boost::system::error_code TlsConnection::handshake(std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code result = asio::error::timed_out;
    impl_->stream->async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) {
        result = ec;
        done = true;
    });
    impl_->run_for(timeout, done);
    return done ? result : asio::error::timed_out;
}

std::string TlsConnection::alpn() const {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(impl_->stream->native_handle(), &data, &len);
    return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsConnection::version() const { return SSL_get_version(impl_->stream->native_handle()); }

std::string TlsConnection::peer_common_name() const {
    X509* cert = SSL_get0_peer_certificate(impl_->stream->native_handle());
    if (cert == nullptr) return {};
    char name[256] = {};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    return n < 0 ? std::string() : std::string(name, static_cast<std::size_t>(n));
}

bool TlsConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code result;
    asio::async_write(*impl_->stream, asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    impl_->run_for(timeout, done);
    return done && !result;
}

std::optional<Response> TlsConnection::read_response(std::chrono::milliseconds timeout) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    bool done = false;
    boost::system::error_code result;
    bhttp::async_read(*impl_->stream, impl_->buffer, parser, [&](boost::system::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    impl_->run_for(timeout, done);
    if (!done || result) return std::nullopt;
    Response r;
    const auto& msg = parser.get();
    r.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = msg.body();
    return r;
}

boost::system::error_code TlsConnection::read_end(std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code result = asio::error::timed_out;
    std::array<char, 4096> chunk{};
    std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec,
                                                                              std::size_t) {
        if (ec) {
            result = ec;
            done = true;
            return;
        }
        impl_->stream->async_read_some(asio::buffer(chunk), on_read);
    };
    impl_->stream->async_read_some(asio::buffer(chunk), on_read);
    impl_->run_for(timeout, done);
    return result;
}

std::optional<Response> tls_request(std::uint16_t port, const TlsClientOptions& options, std::string_view method,
                                    std::string_view target,
                                    const std::vector<std::pair<std::string, std::string>>& headers) {
    TlsConnection c(port, options);
    if (c.handshake()) return std::nullopt;
    std::string req;
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (const auto& [n, v] : headers) req.append(n).append(": ").append(v).append("\r\n");
    req.append("\r\n");
    if (!c.send(req)) return std::nullopt;
    return c.read_response(std::chrono::seconds(10));
}

}  // namespace giosg::testing
