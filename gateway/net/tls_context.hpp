#pragma once
// The one TLS client context factory, for every outgoing TLS connection the gateway makes: the
// upstream (upstream/connection.cpp, policy fetch) and the syslog receiver (audit/syslog.cpp).
// Kept in one place so that the two cannot drift apart on what they accept.
#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

namespace giosg::net {

/// A client context that verifies the peer against `ca_file` or, without one, the system trust
/// store, and speaks TLS 1.2 or later. Host-name verification and SNI are per connection (the
/// caller's). Throws std::runtime_error "cannot load <ca_setting> <file>: <why>" when the CA
/// bundle cannot be loaded, or "cannot load the system trust store: <why>".
std::unique_ptr<boost::asio::ssl::context> make_tls_client_context(
    const std::optional<std::filesystem::path>& ca_file, std::string_view ca_setting);

}  // namespace giosg::net
