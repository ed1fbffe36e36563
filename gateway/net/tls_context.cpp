#include "net/tls_context.hpp"

#include <boost/system/error_code.hpp>

#include <stdexcept>
#include <string>


namespace giosg::net {

std::unique_ptr<boost::asio::ssl::context> make_tls_client_context(
    const std::optional<std::filesystem::path>& ca_file, std::string_view ca_setting) {
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file) {
        ctx->load_verify_file(ca_file->string(), ec);
        if (ec)
            throw std::runtime_error("cannot load " + std::string(ca_setting) + " " + ca_file->string() + ": " +
                                     ec.message());
    } else {
        ctx->set_default_verify_paths(ec);
        if (ec) throw std::runtime_error("cannot load the system trust store: " + ec.message());
    }
    return ctx;
}

}  // namespace giosg::net
