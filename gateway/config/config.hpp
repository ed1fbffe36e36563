#pragma once
// The gateway's configuration (docs/reference.md §2): parsed once, validated with a JSON-pointer path for
// every problem, and then immutable.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/path_error.hpp"
#include "common/secret.hpp"
#include "common/scope.hpp"
#include "common/sha256.hpp"

namespace giosg {

struct HostPort {
    std::string host;        // literal IPv4/IPv6 address or name; "[::1]" is stored as "::1"
    std::uint16_t port = 0;  // 0 = any free port
};

struct UpstreamUrl {
    bool tls = true;         // https
    std::string host;        // without brackets
    std::uint16_t port = 443;
    std::string authority;   // what goes into Host: "service.giosg.com" or "127.0.0.1:8081"
    std::string origin;      // "https://service.giosg.com" (no trailing slash; default port elided)
};

/// Parses "http(s)://host[:port]" (an optional trailing "/" is accepted; any other path, query,
/// fragment or userinfo is an error). Returns the error text in `error` on failure.
std::optional<UpstreamUrl> parse_upstream_url(std::string_view url, std::string& error);

struct UpstreamConfig {
    UpstreamUrl url;
    std::optional<std::filesystem::path> ca_file;  // absolute after loading
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds timeout{30000};
    std::size_t max_idle_connections = 256;  // per worker; kept-alive upstream connections beyond are closed
};

/// A token bucket: `per_s` requests a second on average (may be fractional: 0.5 = one every
/// 2 s), up to `burst` at once (docs/reference.md, "Rate limits").
struct RateConfig {
    double per_s = 0;
    std::uint32_t burst = 0;
};

struct CredentialConfig {
    enum class Source : std::uint8_t { env, file };
    Source source = Source::env;
    std::string env;                 // for Source::env
    std::filesystem::path file;      // for Source::file; absolute after loading
    std::optional<RateConfig> rate;  // the shared giosg token's budget, over all its clients
};

/// "redis_url": redis://[:password@]host[:port][/db]
struct RedisAddress {
    std::string host;
    std::uint16_t port = 6379;
    unsigned db = 0;
    std::optional<Secret> password;
};

/// "rate_limits": where the rate buckets live and what happens when that store fails.
struct RateLimitsConfig {
    enum class Store : std::uint8_t { local, redis };
    enum class OnStoreFailure : std::uint8_t { local, deny, allow };
    Store store = Store::local;
    std::optional<RedisAddress> redis;              // set when store is redis
    std::chrono::milliseconds timeout{50};          // "timeout_ms": one store decision, at most
    OnStoreFailure on_store_failure = OnStoreFailure::local;
    std::string key_prefix = "giosg-gw:";
    std::chrono::seconds max_upstream_hold{300};    // "max_upstream_hold_s": cap on a giosg Retry-After
};

// ---- identities (docs/reference.md §7; section_identity.cpp) ------------------------------------------

/// One of a client's internal keys ("keys": [{id, sha256, not_after}]).
struct ClientKey {
    std::string id;                                                  // audited as "key:<id>"
    KeyDigest sha256{};
    std::optional<std::chrono::system_clock::time_point> not_after;  // refused from this instant on
};

/// "jwt": bearer tokens of an identity provider, verified against a JWKS file.
struct JwtConfig {
    std::string issuer;
    std::string audience;
    std::filesystem::path jwks_file;   // absolute after loading
    std::chrono::seconds leeway{60};   // "leeway_s", for exp and nbf
};

/// "tls": TLS on the TCP listener (docs/reference.md §7).
struct TlsConfig {
    std::filesystem::path cert_file;                       // PEM: certificate, then its chain
    std::filesystem::path key_file;                        // PEM private key
    std::optional<std::filesystem::path> client_ca_file;   // verify client certificates (mTLS)
    bool min_tls13 = false;                                // "min_version": "1.2" (default) or "1.3"
    std::chrono::milliseconds handshake_timeout{5000};     // "handshake_timeout_ms"
};

/// `listen: "unix:PATH"`: a unix socket listener; the peer's uid identifies the caller.
struct UnixListen {
    std::filesystem::path path;   // absolute after loading
    std::uint32_t mode = 0660;    // "listen_mode", octal text ("0660")
};

/// A client's "mtls": the one certificate name that identifies it, compared exactly.
struct MtlsMatch {
    enum class Field : std::uint8_t { san_uri, san_dns, subject_cn };
    Field field = Field::san_uri;
    std::string value;
};

// ---- end of identities -------------------------------------------------------------------------

struct ClientConfig {
    std::string name;
    KeyDigest key_sha256{};                   // the "key_sha256" shorthand; all zero when absent
    std::vector<ClientKey> keys;              // "keys", with ids and expiry
    std::optional<std::string> jwt_subject;   // the JWT "sub" that names this client
    std::optional<MtlsMatch> mtls;            // the client certificate that names this client
    std::optional<std::uint32_t> unix_uid;    // the unix socket peer uid that names this client
    std::string credential;
    ScopeSet scopes = 0;
    std::vector<std::string> scope_names;     // as configured, for `check`/`explain`
    bool all_organizations = false;           // ["*"]
    std::vector<std::string> organizations;   // exact, case-sensitive ids
    std::optional<RateConfig> rate;           // this client's own bucket
    std::uint32_t max_in_flight = 0;          // requests of this client at once, per replica; 0 = no cap
};

struct PolicyConfig {
    enum class Source : std::uint8_t { upstream, file };
    Source source = Source::upstream;
    std::optional<std::filesystem::path> file;  // absolute after loading
    std::string credential;                     // required when source == upstream
    std::chrono::seconds refresh{3600};         // 0 = never
    // Catalogue drift (docs/reference.md): "apply" adopts every change, "hold" only narrowing ones.
    enum class OnWidening : std::uint8_t { apply, hold };
    OnWidening on_widening = OnWidening::apply;
};

struct SyslogConfig {
    HostPort address;                            // "host:port" (a name, IPv4 or [IPv6])
    bool tls = false;                            // RFC 5425; certificate and host name verified
    std::optional<std::filesystem::path> ca_file;  // absolute after loading; default: system store
    int facility = 13;                           // RFC 5424 facility (13 = log audit)
    std::size_t queue = 10000;                   // messages held while the receiver is away
};

struct AuditConfig {
    enum class Fsync : std::uint8_t { always, batch, never };
    enum class OnFailure : std::uint8_t { deny, allow };
    std::filesystem::path path = "audit.jsonl";  // absolute after loading, unless to_stdout
    bool to_stdout = false;                      // "-"
    Fsync fsync = Fsync::batch;
    std::chrono::milliseconds fsync_interval{1000};   // "fsync_ms", for Fsync::batch
    std::uint64_t rotate_bytes = 104857600;      // 0 = rotate only on SIGUSR1
    unsigned keep = 0;                           // rotated files kept; 0 = all
    OnFailure on_failure = OnFailure::deny;
    std::optional<std::filesystem::path> signing_key_file;  // Ed25519 PEM; absolute after loading
    std::chrono::seconds checkpoint_interval{60};           // "checkpoint_s"
    std::size_t queue_bytes = 64u << 20;                    // records queued for the writer, all workers
    std::chrono::milliseconds queue_wait{100};              // "queue_wait_ms": a wait for room, then 503
    std::optional<SyslogConfig> syslog;
};

struct Limits {
    std::size_t max_header_bytes = 16384;
    std::size_t max_body_bytes = 10485760;
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000};
    std::size_t max_rewrite_bytes = 8 * 1024 * 1024;  // JSON bodies buffered to rewrite links (§6)
};

/// "log": operational logs on stderr (docs/reference.md §5 "Logs"). GIOSG_LOG_LEVEL overrides `level`.
struct LogConfig {
    enum class Level : std::uint8_t { trace, debug, info, warn, error, critical, off };  // spdlog's order
    enum class Format : std::uint8_t { text, json };
    Level level = Level::info;
    Format format = Format::text;
};

struct Config {
    std::filesystem::path file;      // the config file (absolute)
    std::string file_sha256;         // hex SHA-256 of its bytes as parsed (load_config); "" from parse_config
    std::filesystem::path base_dir;  // its folder; relative paths resolve against it
    HostPort listen;                 // the TCP listener; only when listen_tcp
    bool listen_tcp = true;          // false when "listen" names only a unix socket
    std::optional<UnixListen> listen_unix;
    std::optional<HostPort> admin_listen;
    unsigned workers = 0;            // 0 = one per CPU core (resolved by the server)
    std::optional<std::string> public_url;  // "scheme://host[:port]" clients reach the gateway by
    UpstreamConfig upstream;
    std::map<std::string, CredentialConfig> credentials;
    std::vector<ClientConfig> clients;   // in config order
    PolicyConfig policy;
    AuditConfig audit;
    Limits limits;
    std::optional<JwtConfig> jwt;    // docs/reference.md §7
    // Operations (section_operations.cpp; docs/reference.md §5).
    std::optional<KeyDigest> admin_token_sha256;     // set: admin paths but /healthz, /readyz need the token
    std::chrono::milliseconds drain_timeout{10000};  // "drain_timeout_ms": SIGTERM's wait for requests in flight
    LogConfig log;
    RateLimitsConfig rate_limits;    // docs/reference.md §8
    std::optional<TlsConfig> tls;    // TLS on the TCP listener
};

using ConfigError = PathError;

struct ConfigResult {
    std::optional<Config> config;    // set only when errors is empty
    std::vector<ConfigError> errors;
};

/// Parses config text (comments and trailing commas allowed, unknown keys are errors) and
/// validates it: required keys, types, ranges, references between sections (client ->
/// credential, policy.credential -> credential), key hash format. Relative paths are made
/// absolute against `base_dir`.
ConfigResult parse_config(std::string_view text, const std::filesystem::path& base_dir);

/// Reads and parses a config file; an unreadable file is one error with an empty path.
ConfigResult load_config(const std::filesystem::path& file);

/// Server-side tokens by credential name, loaded from the environment / files.
using CredentialSet = std::map<std::string, Secret, std::less<>>;

struct CredentialResult {
    CredentialSet credentials;
    std::vector<ConfigError> errors;  // "/credentials/acme/token_env: environment variable GIOSG_API_TOKEN is not set"
};

/// Loads every configured credential. A token file has one trailing newline (LF or CRLF)
/// stripped; an empty token, or one containing CR/LF/NUL or other control bytes, is an error.
CredentialResult load_credentials(const Config& config);

/// Parses "sha256:<64 hex>" or bare 64 hex (either case) into a digest.
std::optional<KeyDigest> parse_key_digest(std::string_view text) noexcept;

}  // namespace giosg
