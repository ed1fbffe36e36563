#include "net/tls_server_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace giosg::net {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2: ECDHE key exchange with AEAD ciphers only (forward secrecy, no CBC, no RSA key
// exchange). TLS 1.3 keeps OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr std::string_view kHttp11 = "http/1.1";
constexpr unsigned char kSessionContext[] = "giosg-gateway";

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

[[noreturn]] void fail(std::string_view setting, const std::filesystem::path& file, const std::string& why) {
    throw std::runtime_error("/tls/" + std::string(setting) + ": cannot load " + file.string() + ": " + why);
}

// ALPN: the gateway speaks HTTP/1.1 only. A client that offers ALPN without http/1.1 gets the
// no_application_protocol alert (RFC 7301 §3.2); one that offers none goes on without ALPN.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
    for (unsigned int i = 0; i < in_len;) {
        const unsigned int len = in[i];
        if (len == 0 || i + 1 + len > in_len) break;  // malformed: refuse below
        if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == kHttp11) {
            *out = in + i + 1;
            *out_len = static_cast<unsigned char>(len);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

std::unique_ptr<ssl::context> make_tls_server_context(const TlsConfig& config) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                     ssl::context::single_dh_use);
    // Client-initiated renegotiation costs the server a handshake per request: refused.
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(native, config.min_tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
        throw std::runtime_error("/tls: the cipher list is refused: " + openssl_error());
    // Resumption by session tickets only: no server-side session cache shared (and locked)
    // between the workers.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
    SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);

    if (SSL_CTX_use_certificate_chain_file(native, config.cert_file.c_str()) != 1)
        fail("cert_file", config.cert_file, openssl_error());
    if (SSL_CTX_use_PrivateKey_file(native, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        fail("key_file", config.key_file, openssl_error());
    if (SSL_CTX_check_private_key(native) != 1)
        fail("key_file", config.key_file, "the key does not match the certificate of /tls/cert_file");

    if (config.client_ca_file) {
        const auto& file = *config.client_ca_file;
        if (SSL_CTX_load_verify_locations(native, file.c_str(), nullptr) != 1)
            fail("client_ca_file", file, openssl_error());
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(file.c_str());
        if (names == nullptr) fail("client_ca_file", file, "no certificate in the file");
        SSL_CTX_set_client_CA_list(native, names);  // takes ownership
        // A certificate is optional (keys and JWTs still work), but one that is sent must verify:
        // OpenSSL then ends the handshake (chain, validity).
        SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    }
    ERR_clear_error();
    return ctx;
}

}  // namespace giosg::net
