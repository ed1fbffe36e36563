// Fuzzes the configuration loader (docs/reference.md §2) with arbitrary text: never a crash; either a
// config or at least one error, never both; every error named by "" or a JSON pointer; and a
// config that loads keeps the promises the server relies on without checking again. The same
// bytes also go to parse_upstream_url and parse_key_digest.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_check.hpp"

namespace {

bool is_path_segment(std::string_view id) {
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F && c != '/' && c != '\\' && c != '?' && c != '#';
    });
}

void check_upstream_url(const giosg::UpstreamUrl& url) {
    FUZZ_CHECK(!url.host.empty());
    FUZZ_CHECK(url.port != 0);
    FUZZ_CHECK(url.origin == (url.tls ? "https://" : "http://") + url.authority);
    FUZZ_CHECK(url.authority.starts_with(url.host) || url.authority.starts_with("[" + url.host + "]"));
    // The origin is a canonical form: it parses to itself.
    std::string error;
    const auto again = giosg::parse_upstream_url(url.origin, error);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->tls == url.tls && again->host == url.host && again->port == url.port);
    FUZZ_CHECK(again->authority == url.authority && again->origin == url.origin);
}

void check_config(const giosg::Config& config) {
    FUZZ_CHECK(config.base_dir == "/tmp");
    FUZZ_CHECK(config.listen_tcp || config.listen_unix);
    if (config.listen_tcp) FUZZ_CHECK(!config.listen.host.empty());
    if (config.listen_unix) FUZZ_CHECK(config.listen_unix->path.is_absolute() && config.listen_unix->mode <= 0777);
    if (config.tls) FUZZ_CHECK(config.listen_tcp && config.tls->cert_file.is_absolute() && config.tls->key_file.is_absolute());
    if (config.admin_listen) FUZZ_CHECK(!config.admin_listen->host.empty());
    check_upstream_url(config.upstream.url);
    if (config.upstream.ca_file) FUZZ_CHECK(config.upstream.ca_file->is_absolute());
    FUZZ_CHECK(config.upstream.connect_timeout.count() > 0 && config.upstream.timeout.count() > 0);

    FUZZ_CHECK(!config.credentials.empty());
    for (const auto& [name, credential] : config.credentials) {
        FUZZ_CHECK(!name.empty());
        if (credential.source == giosg::CredentialConfig::Source::env) {
            FUZZ_CHECK(!credential.env.empty());
        } else {
            FUZZ_CHECK(credential.file.is_absolute());
        }
    }

    FUZZ_CHECK(!config.clients.empty());
    std::set<std::string> names;
    std::set<giosg::KeyDigest> keys;
    for (const giosg::ClientConfig& client : config.clients) {
        FUZZ_CHECK(names.insert(client.name).second);
        // One key, one client (and one entry): the shorthand when set, and every "keys" entry.
        const bool shorthand = client.key_sha256 != giosg::KeyDigest{};
        if (shorthand) FUZZ_CHECK(keys.insert(client.key_sha256).second);
        for (const auto& key : client.keys) FUZZ_CHECK(keys.insert(key.sha256).second);
        FUZZ_CHECK(shorthand || !client.keys.empty() || client.jwt_subject.has_value() || client.mtls.has_value() ||
                   client.unix_uid.has_value());  // an identity
        if (client.jwt_subject) FUZZ_CHECK(config.jwt.has_value());
        if (client.mtls) FUZZ_CHECK(config.tls && config.tls->client_ca_file && !client.mtls->value.empty());
        if (client.unix_uid) FUZZ_CHECK(config.listen_unix.has_value());
        FUZZ_CHECK(config.credentials.contains(client.credential));
        FUZZ_CHECK(client.all_organizations || !client.organizations.empty());
        // An organisation id is compared with one raw path segment; anything else never matches.
        for (const std::string& id : client.organizations) FUZZ_CHECK(is_path_segment(id));
    }

    if (config.policy.source == giosg::PolicyConfig::Source::upstream) {
        FUZZ_CHECK(config.credentials.contains(config.policy.credential));
    } else {
        FUZZ_CHECK(config.policy.file.has_value());
    }
    if (config.policy.file) FUZZ_CHECK(config.policy.file->is_absolute());
    FUZZ_CHECK(config.policy.refresh.count() >= 0);

    if (config.audit.to_stdout) {
        FUZZ_CHECK(config.audit.path == "-");
    } else {
        FUZZ_CHECK(config.audit.path.is_absolute());
    }

    FUZZ_CHECK(config.limits.max_header_bytes >= 1024 && config.limits.max_header_bytes <= 1024 * 1024);
    FUZZ_CHECK(config.limits.max_body_bytes >= 1);
    FUZZ_CHECK(config.limits.header_timeout.count() > 0 && config.limits.idle_timeout.count() > 0);
}

void fuzz_parse_config(std::string_view text) {
    const giosg::ConfigResult result = giosg::parse_config(text, "/tmp");
    FUZZ_CHECK(result.config.has_value() != !result.errors.empty());
    for (const giosg::ConfigError& error : result.errors) {
        FUZZ_CHECK(error.path.empty() || error.path.front() == '/');
        FUZZ_CHECK(!error.message.empty());
    }
    if (result.config) check_config(*result.config);
}

void fuzz_upstream_url(std::string_view text) {
    std::string error;
    const auto url = giosg::parse_upstream_url(text, error);
    if (url) {
        check_upstream_url(*url);
        return;
    }
    FUZZ_CHECK(!error.empty());
}

/// The URL is never echoed, so a password in its user info cannot reach a log. (Checked with a
/// marker: the input itself may well be a piece of an error message.)
void fuzz_upstream_url_secret(std::string_view text) {
    constexpr std::string_view kMarker = "fuzz-secret-3f9c";
    for (const std::string& url : {"https://user:" + std::string(kMarker) + std::string(text) + "@service.giosg.com",
                                   std::string(text) + std::string(kMarker)}) {
        std::string error;
        const auto parsed = giosg::parse_upstream_url(url, error);
        if (parsed) check_upstream_url(*parsed);
        FUZZ_CHECK(error.find(kMarker) == std::string::npos);
    }
}

void fuzz_key_digest(std::string_view text) {
    const auto digest = giosg::parse_key_digest(text);
    std::string_view hex = text;
    if (hex.starts_with("sha256:")) hex.remove_prefix(7);
    const bool well_formed = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    FUZZ_CHECK(digest.has_value() == well_formed);
    if (!digest) return;
    constexpr std::string_view kDigits = "0123456789abcdef";
    for (std::size_t i = 0; i < digest->size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; };
        FUZZ_CHECK(kDigits[(*digest)[i] >> 4] == lower(hex[2 * i]));
        FUZZ_CHECK(kDigits[(*digest)[i] & 0xF] == lower(hex[2 * i + 1]));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = giosg::fuzz::as_text(data, size);
    fuzz_parse_config(text);
    fuzz_upstream_url(text);
    fuzz_upstream_url_secret(text);
    fuzz_key_digest(text);
    return 0;
}
