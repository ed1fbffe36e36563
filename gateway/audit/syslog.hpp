#pragma once
// Ships audit lines to a SIEM as RFC 5424 syslog messages over TCP or TLS (RFC 5425), framed by
// octet counting (RFC 6587 §3.4.1). Best effort by design: the audit file stays the source of
// truth, so while the receiver is away lines wait in a queue bounded by count, and when it is full
// the oldest are dropped and counted. Asio stays behind the Impl: the writer includes this header.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace giosg {

struct SyslogOptions {
    std::string host;              // "127.0.0.1", "::1" or a DNS name
    std::uint16_t port = 0;
    bool tls = false;              // RFC 5425: TLS, certificate + host name verified (SNI set)
    std::optional<std::filesystem::path> ca_file;  // default: system trust store
    std::string app_name = "giosg-gateway";
    int facility = 13;             // RFC 5424 facility number (13 = log audit)
    std::size_t queue_limit = 10000;   // messages; bound of the in-memory queue
    std::chrono::milliseconds connect_timeout{3000};  // resolve + connect + TLS handshake
    std::chrono::milliseconds write_timeout{5000};
    std::chrono::milliseconds max_backoff{5000};  // reconnect back-off grows 100 ms -> max_backoff
};

/// One connection to one syslog receiver, served by its own thread. Each audit line becomes one
/// message `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID audit - LINE` (PRI = facility * 8 + 6).
///
/// Delivery is at least once per connection, not end to end: a batch being written when the
/// connection breaks is sent again on the next one, so the receiver may see a line twice; and
/// plain syslog has no acknowledgement, so lines the kernel accepted just before the receiver
/// went away can be lost without notice (RFC 6587 §3.4 / RFC 5425 §4.4 say no more).
class SyslogShipper {
public:
    /// Throws std::runtime_error for an unusable option (no host or port, facility outside 0..23,
    /// queue_limit 0) and, with tls, when ca_file or the system trust store cannot be loaded.
    explicit SyslogShipper(SyslogOptions options);
    ~SyslogShipper();                  // stop()
    SyslogShipper(const SyslogShipper&) = delete;
    SyslogShipper& operator=(const SyslogShipper&) = delete;

    /// Starts its own thread (own io_context), which connects and keeps reconnecting.
    void start();
    /// Thread-safe, never blocks on the network: copies one audit line (a JSON object, with or
    /// without trailing '\n', which is stripped) into the bounded queue. When the queue is full the
    /// OLDEST queued message is dropped and counted (the audit file stays the source of truth).
    /// Messages being written count against the bound too; when all of them are, the new line is
    /// the one dropped. After stop() every line is counted as dropped.
    void enqueue(std::string_view line);
    /// Tries to send what is queued for at most `grace`, then closes. Idempotent; call it from one
    /// thread (the owner's).
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

    [[nodiscard]] std::uint64_t sent() const noexcept;      // messages written to a connection
    /// Dropped because the queue was full (or left at stop).
    [[nodiscard]] std::uint64_t dropped() const noexcept;
    /// Connections established after a failed attempt or a lost connection (a clean first
    /// connection does not count).
    [[nodiscard]] std::uint64_t reconnects() const noexcept;
    [[nodiscard]] bool connected() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace giosg
