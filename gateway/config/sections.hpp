#pragma once
// The schema, one reader per top-level section (docs/reference.md §2). Each reads its keys from the
// top-level object, fills its part of Config and reports problems into the reader's error list;
// parse_config() calls them in document order. Internal to the config library.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/ascii.hpp"
#include "config/config.hpp"
#include "config/json_reader.hpp"

namespace giosg::config_detail {

// Bounds that keep a typo from becoming an outage or an overflow in a timer.
constexpr std::int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;  // one day
constexpr std::int64_t kMaxRefreshS = 365LL * 24 * 60 * 60;    // one year
constexpr std::size_t kMaxNameLength = 64;

/// Client and credential names end up in logs and metric labels.
constexpr bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameLength) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

inline std::string invalid_name_message() {
    return "name must be 1 to " + std::to_string(kMaxNameLength) + " characters of A-Z a-z 0-9 . _ -";
}

/// The credential names, for the sections that refer to one (clients, policy).
class CredentialNames {
public:
    /// A reference to a credential; "unknown credential" when the credentials section exists and
    /// has no such entry.
    std::optional<std::string> reference(ObjectReader& reader, std::string_view key, Need need,
                                         bool nullable = false) const;

private:
    friend void read_credentials(ObjectReader& top, Config& config, CredentialNames& names);
    // Set once "credentials" is an object: a broken entry still counts as existing so that one
    // mistake is not reported again at every client that uses it.
    bool known_ = false;
    std::set<std::string, std::less<>> names_;
};

/// "listen", "admin_listen" and "workers".
void read_listen(ObjectReader& top, Config& config);
/// A "host:port" member's text parsed, or its error reported under `key`.
std::optional<HostPort> host_port(const ObjectReader& reader, std::string_view key, std::string_view text);

void read_upstream(ObjectReader& top, Config& config);
void read_credentials(ObjectReader& top, Config& config, CredentialNames& names);
void read_clients(ObjectReader& top, const CredentialNames& credentials, Config& config);
void read_policy(ObjectReader& top, const CredentialNames& credentials, Config& config);
/// "audit", its "syslog" included.
void read_audit(ObjectReader& top, Config& config);
void read_limits(ObjectReader& top, Config& config);
/// "admin_token_sha256", "drain_timeout_ms" and "log" (section_operations.cpp).
void read_operations(ObjectReader& top, Config& config);

// ---- rate limits (docs/reference.md §8; section_rate_limits.cpp) --------------------------------------
constexpr std::int64_t kMaxInFlight = 1000000;  // "max_in_flight"
/// "rate_limits".
void read_rate_limits(ObjectReader& top, Config& config);
/// A client's or credential's "rate": {"per_s", "burst"}.
std::optional<RateConfig> read_rate(ObjectReader& entry);

// ---- identities (docs/reference.md §7; section_identity.cpp) ------------------------------------------
/// Who already uses a key digest ("client \"billing\"", "key \"q4\" of client \"billing\"").
using KeyOwners = std::map<KeyDigest, std::string>;
/// "jwt"; read before "clients", whose jwt_subject needs it.
void read_jwt(ObjectReader& top, Config& config);
/// A client's "key_sha256", "keys" and "jwt_subject".
void read_client_identity(ObjectReader& entry, ClientConfig& client, KeyOwners& owners);
/// After "clients": every client has an identity (`keyless` names those without), subjects are
/// unique and have a "jwt" section.
void check_identities(ObjectReader& top, const Config& config, const std::set<std::string, std::less<>>& keyless);
/// "tls" and "listen_mode" (section_transport.cpp); after "listen", before "clients".
void read_transport(ObjectReader& top, Config& config);
/// One "listen" entry that starts with "unix:"; false (with an error under `path`) when unusable.
bool read_unix_listen(ErrorList& errors, const std::string& path, std::string_view text, Config& config);
/// A client's "mtls" and "unix_uid".
void read_client_transport_identity(ObjectReader& entry, ClientConfig& client);
/// RFC 3339 date-time ("2027-01-01T00:00:00Z", fractions and offsets allowed).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace giosg::config_detail
