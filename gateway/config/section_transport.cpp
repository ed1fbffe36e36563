// The transport side of docs/reference.md §7: "tls" (TLS on the TCP listener, client certificates), the
// unix socket listener ("listen": "unix:PATH", "listen_mode"), and per client the identities the
// transport proves: "mtls" (a certificate name) and "unix_uid" (the peer's uid).
#include <sys/un.h>

#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMaxHandshakeMs = 60000;
constexpr std::int64_t kMaxUid = 4294967294;   // (uid_t)-1 is "no uid"
constexpr std::size_t kMaxMtlsValue = 1024;

/// "0660": octal, at most 0777, owner read and write (else the gateway's own users cannot connect).
std::optional<std::uint32_t> parse_mode(std::string_view text) {
    if (text.size() < 3 || text.size() > 4) return std::nullopt;
    std::uint32_t mode = 0;
    for (const char c : text) {
        if (c < '0' || c > '7') return std::nullopt;
        mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
    }
    return mode;
}

}  // namespace

bool read_unix_listen(ErrorList& errors, const std::string& path, std::string_view text, Config& config) {
    const std::string_view file = text.substr(5);
    // sun_path holds the path and its NUL; the listener binds a temporary name 16 bytes longer
    // first (net/unix_listener.cpp), so keep room for that.
    constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1 - 16;
    if (file.empty() || file.front() != '/') {
        errors.add(path, "unix:PATH must name an absolute path, such as \"unix:/run/giosg-gateway/gw.sock\"");
        return false;
    }
    if (file.size() > kMaxPath || file.find('\0') != std::string_view::npos) {
        errors.add(path, "unix socket path must be at most " + std::to_string(kMaxPath) + " bytes");
        return false;
    }
    config.listen_unix = UnixListen{std::filesystem::path(file).lexically_normal(), 0660};
    return true;
}

void read_transport(ObjectReader& top, Config& config) {
    if (auto text = top.string("listen_mode")) {
        if (!config.listen_unix) {
            top.error("listen_mode", "needs a unix socket listener (\"listen\": \"unix:PATH\")");
        } else if (const auto mode = parse_mode(*text); !mode || *mode > 0777 || (*mode & 0600) != 0600) {
            top.error("listen_mode", "must be octal text such as \"0660\", at most \"0777\", with owner read and write");
        } else {
            config.listen_unix->mode = *mode;
        }
    }
    auto section = top.object("tls");
    if (!section) return;
    TlsConfig tls;
    bool ok = true;
    if (auto cert = read_path(*section, "cert_file", config.base_dir, Need::required)) tls.cert_file = std::move(*cert);
    else ok = false;
    if (auto key = read_path(*section, "key_file", config.base_dir, Need::required)) tls.key_file = std::move(*key);
    else ok = false;
    tls.client_ca_file = read_path(*section, "client_ca_file", config.base_dir, Need::optional, true);
    if (const auto version = section->choice("min_version", {"1.2", "1.3"})) tls.min_tls13 = *version == 1;
    if (const auto ms = section->integer("handshake_timeout_ms", 1, kMaxHandshakeMs))
        tls.handshake_timeout = std::chrono::milliseconds(*ms);
    section->reject_unknown_keys();
    if (!config.listen_tcp) top.error("tls", "needs a host:port entry in \"listen\" (TLS applies to TCP listeners)");
    if (ok) config.tls = std::move(tls);
}

void read_client_transport_identity(ObjectReader& entry, ClientConfig& client) {
    if (auto mtls = entry.object("mtls")) {
        static constexpr std::string_view kFields[] = {"san_uri", "san_dns", "subject_cn"};
        std::size_t present = 0;
        for (std::size_t i = 0; i < std::size(kFields); ++i) {
            auto value = mtls->string(kFields[i]);
            if (!value) continue;
            ++present;
            if (value->empty() || value->size() > kMaxMtlsValue) {
                mtls->error(kFields[i], "must be 1 to " + std::to_string(kMaxMtlsValue) + " characters");
                continue;
            }
            client.mtls = MtlsMatch{static_cast<MtlsMatch::Field>(i), std::move(*value)};
        }
        mtls->reject_unknown_keys();
        if (present != 1) {
            entry.error("mtls", "must have exactly one of \"san_uri\", \"san_dns\" or \"subject_cn\"");
            client.mtls.reset();
        }
    }
    if (const auto uid = entry.integer("unix_uid", 0, kMaxUid)) client.unix_uid = static_cast<std::uint32_t>(*uid);
}

}  // namespace giosg::config_detail
