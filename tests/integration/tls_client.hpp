#pragma once
// A TLS client for the integration tests, on Boost.Asio's ssl stream (OpenSSL): verifies the
// gateway against a test CA, optionally presents a client certificate, offers ALPN protocols,
// and reads responses with Beast's parser. Every operation has a deadline.
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace giosg::testing {

struct TlsClientOptions {
    std::filesystem::path ca_file;                 // trusted for the gateway's certificate
    std::filesystem::path cert_file;               // client certificate (optional)
    std::filesystem::path key_file;
    std::vector<std::string> alpn{"http/1.1"};     // offered protocols; empty: no ALPN
    int max_version = 0;                           // e.g. TLS1_2_VERSION; 0: the library's
    int min_version = 0;                           // e.g. TLS1_VERSION (lowers the security level)
};

class TlsConnection {
public:
    TlsConnection(std::uint16_t port, const TlsClientOptions& options);
    ~TlsConnection();
    TlsConnection(const TlsConnection&) = delete;
    TlsConnection& operator=(const TlsConnection&) = delete;

    /// The client handshake; the error (or success) within `timeout`.
    boost::system::error_code handshake(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// The negotiated ALPN protocol ("" for none) and protocol version ("TLSv1.3").
    [[nodiscard]] std::string alpn() const;
    [[nodiscard]] std::string version() const;
    /// The common name of the certificate the server presented ("" before the handshake).
    [[nodiscard]] std::string peer_common_name() const;

    /// Writes `bytes`; false when the write failed.
    bool send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// One response; nullopt on timeout, when the peer closed, or on a TLS alert.
    std::optional<Response> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Reads until the connection ends: asio::error::eof after the peer's close_notify,
    /// ssl::error::stream_truncated when it closed TCP without one.
    boost::system::error_code read_end(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A GET (or other body-less request) over a new TLS connection with "Connection: close";
/// nullopt when the handshake or the exchange failed.
std::optional<Response> tls_request(std::uint16_t port, const TlsClientOptions& options, std::string_view method,
                                    std::string_view target,
                                    const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace giosg::testing
