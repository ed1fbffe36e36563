#pragma once
// The TLS context of the client listener (docs/reference.md §7, `tls`): the certificate and key,
// TLS 1.2 or later with forward-secret AEAD ciphers only, ALPN http/1.1, and with
// `client_ca_file` the verification of client certificates.
#include <boost/asio/ssl/context.hpp>

#include <memory>

#include "config/config.hpp"

namespace giosg::net {

/// Builds the listener's context; throws std::runtime_error "/tls/cert_file: cannot load …"
/// (naming the setting at fault) when a file cannot be used or the key does not match.
std::unique_ptr<boost::asio::ssl::context> make_tls_server_context(const TlsConfig& config);

}  // namespace giosg::net
