#pragma once
// Integration-test harness: the real gateway server (core library, real sockets, real files)
// in front of an in-process giosg-mock, both on port 0, with a temporary folder for the config
// and audit file. Clients speak raw bytes and parse answers with Beast (an implementation
// independent of the gateway's own parser).
#include <boost/json.hpp>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "giosg_mock.hpp"

namespace giosg::server {
class Server;
}
namespace giosg {
class AuditWriter;
class Metrics;
struct PolicyLoad;
struct Snapshot;
}  // namespace giosg

namespace giosg::testing {

inline constexpr const char* kOrg = "7f9e9580-095b-42c7-838c-c04e667b26f7";
inline constexpr const char* kOtherOrg = "0c6a3b8e-5f4d-4c2b-9a1e-2d3c4b5a6f70";
inline constexpr const char* kUpstreamToken = "upstream-secret-TOKEN-6f1d";
// Internal client keys: full access; reports only, bound to kOrg; no scopes, bound to kOrg.
inline constexpr const char* kKeyFull = "key-full-9b2e7c";
inline constexpr const char* kKeyReports = "key-reports-41aa0d";
inline constexpr const char* kKeyNoScope = "key-noscope-77c3e1";

struct HarnessOptions {
    unsigned workers = 1;
    std::size_t page_size = 25;
    std::size_t mock_list_pages = 3;          // pages of the mock's paged teams list
    std::string policy_source = "upstream";   // "upstream" | "file"
    bool policy_file = true;                  // configure the bundled snapshot as policy.file
    std::string policy_file_path;             // override the snapshot path
    std::string limits_json;                  // extra members of "limits", e.g. R"("header_timeout_ms": 300)"
    std::string upstream_json;                // extra members of "upstream", e.g. R"("timeout_ms": 300)"
    std::optional<std::string> upstream_url;  // default: the mock's origin
    bool tls = false;                         // serve the mock over TLS with a generated CA
    bool start_mock = true;
    std::string mock_default_fault;
    bool mock_endpoints_failure = false;
    std::chrono::milliseconds drain{5000};    // how long stop() lets requests in flight finish
    std::string audit_json;                   // extra members of "audit", e.g. R"("fsync": "always")"
    std::string audit_path;                   // audit.path; empty: "audit.jsonl" in the harness folder
    std::string clients_json;                 // extra entries of "clients", e.g. R"("jwt-only": {...})"
    std::string top_json;                     // extra top-level members, e.g. R"("jwt": {...})"
    std::string credential_json;              // extra members of the "giosg" credential, e.g. R"("rate": {...})"
    std::string listen_json = R"("127.0.0.1:0")";  // the "listen" value (JSON): a string or a list
    /// While it holds a non-zero errno, every audit write fails with it (AuditWriter's test seam).
    std::shared_ptr<std::atomic<int>> inject_audit_errno;
};

class Harness {
public:
    explicit Harness(HarnessOptions options = {});
    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    mock::GiosgMock& mock() { return *mock_; }
    server::Server& server() { return *server_; }
    AuditWriter& audit() { return *audit_; }
    Metrics& metrics() { return *metrics_; }
    [[nodiscard]] const PolicyLoad& policy() const { return *policy_; }
    /// The snapshot the server started with (to derive refreshed ones in tests).
    [[nodiscard]] std::shared_ptr<const Snapshot> snapshot() const { return snapshot_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
    [[nodiscard]] const std::filesystem::path& config_file() const { return config_file_; }

    /// Waits (up to `timeout`) until the audit file holds at least `count` records; returns all.
    std::vector<boost::json::object> audit_records(std::size_t count,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(3));
    [[nodiscard]] std::string audit_text() const;
    /// Everything the gateway logged through spdlog since the harness started.
    [[nodiscard]] static std::string log_text();

    /// Stops the server (drains) and flushes the audit file.
    void stop();

private:
    HarnessOptions options_;
    std::filesystem::path dir_;
    std::filesystem::path config_file_;
    std::filesystem::path audit_file_;
    std::unique_ptr<mock::GiosgMock> mock_;
    std::unique_ptr<PolicyLoad> policy_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::unique_ptr<Metrics> metrics_;
    std::unique_ptr<AuditWriter> audit_;
    std::unique_ptr<server::Server> server_;
    bool stopped_ = false;
};

/// A temporary folder removed with the object.
std::filesystem::path make_temp_dir(const std::string& prefix);

/// Writes a CA and a server certificate for "localhost" / 127.0.0.1 into `dir`
/// (ca.pem, server.pem, server.key) with the openssl command line tool.
void make_test_certificates(const std::filesystem::path& dir);

struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;  // first, case-insensitive
    [[nodiscard]] std::size_t header_count(std::string_view name) const;
    [[nodiscard]] boost::json::value json() const;
};

/// One raw TCP connection to 127.0.0.1:port with a deadline on every read.
class RawConnection {
public:
    explicit RawConnection(std::uint16_t port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    void send(std::string_view bytes);
    /// Half-closes: a FIN towards the gateway, the connection still reads.
    void shutdown_send();
    /// Reads one response (Beast parser); nullopt on timeout or when the peer closed first.
    std::optional<Response> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                          bool head_request = false);
    /// Reads until the peer closes (or the timeout); returns what arrived after any buffered bytes.
    std::string read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// True when the peer has closed the connection within `timeout` (any bytes before are discarded).
    bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Sends one request with "Connection: close" and returns the response.
Response request(std::uint16_t port, std::string_view method, std::string_view target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}, std::string_view body = {});

/// The whole content of `file` (empty when it cannot be read).
std::string read_text(const std::filesystem::path& file);

/// Replaces the content of `file` with `text`.
void write_text(const std::filesystem::path& file, std::string_view text);

/// `s` in single quotes for /bin/sh.
std::string shell_quote(std::string_view s);

/// How a run of the gateway binary ended: the exit status (-1 unless it exited normally) and what
/// it wrote to stdout and stderr.
struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// Runs the gateway binary (GIOSG_GATEWAY_BIN) with `args` in `dir` through /bin/sh, bounded by
/// `timeout` (timeout(1)), with stdin from `stdin_file` (relative to `dir`, or absolute);
/// stdout and stderr are captured in `dir`/stdout.txt and `dir`/stderr.txt.
RunResult run_gateway(const std::filesystem::path& dir, const std::vector<std::string>& args,
                      std::chrono::seconds timeout, const std::string& stdin_file = "/dev/null");

/// `giosg-gateway serve --config <config>` (GIOSG_GATEWAY_BIN) as a child process, with stdin
/// from /dev/null and stdout / stderr in `dir`/serve.stdout and `dir`/serve.stderr; killed
/// (SIGKILL) on destruction if the test did not stop it.
class ServeProcess {
public:
    ServeProcess(const std::filesystem::path& config, const std::filesystem::path& dir);
    ~ServeProcess();
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    /// The port from the "listening on 127.0.0.1:PORT" log line; 0 if it did not appear in time
    /// (or the process exited first).
    std::uint16_t wait_for_port(std::chrono::milliseconds timeout);
    /// Sends `signo` while the process runs.
    void signal(int signo);
    /// Sends `signo` and waits for the exit; the exit code (128 + the signal when killed by one),
    /// or nullopt when it did not exit in time. Signal 0 only waits.
    std::optional<int> signal_and_wait(int signo, std::chrono::milliseconds timeout);
    /// Everything the process has written to stderr so far.
    [[nodiscard]] std::string stderr_text() const;

private:
    bool exited();

    std::filesystem::path stderr_file_;
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

/// ASCII case-insensitive equality (header names).
bool iequals(std::string_view a, std::string_view b);

/// How many headers named `name` (case-insensitive) the mock received with `request`.
std::size_t count_headers(const mock::ReceivedRequest& request, std::string_view name);

/// The mock's "host:port", what the gateway must send as Host.
std::string upstream_authority(const mock::GiosgMock& mock);

/// "Authorization: Token <key>" as a header pair.
std::pair<std::string, std::string> auth(std::string_view key);

}  // namespace giosg::testing
