// The identity keys of docs/reference.md §7: "jwt" at the top level and, per client, "key_sha256" (the
// one-key shorthand), "keys" (ids and expiry) and "jwt_subject". read_clients() calls
// read_client_identity() for each entry; check_identities() then checks what spans clients.
#include <map>

#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMaxLeewayS = 3600;

bool digits(std::string_view text, std::size_t from, std::size_t count, int& value) {
    value = 0;
    for (std::size_t i = from; i < from + count; ++i) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
        value = value * 10 + (text[i] - '0');
    }
    return true;
}

/// An all-zero digest stands for "no key_sha256" in ClientConfig; it is no key's hash anyway.
std::optional<KeyDigest> key_digest(std::string_view text) noexcept {
    auto digest = parse_key_digest(text);
    if (digest && *digest == KeyDigest{}) return std::nullopt;
    return digest;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
        text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
        !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
        !digits(text, 17, 2, second))
        return std::nullopt;
    std::size_t i = 19;
    nanoseconds fraction{0};
    if (i < text.size() && text[i] == '.') {
        ++i;
        const std::size_t start = i;
        std::int64_t ns = 0;
        std::int64_t scale = 100000000;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            ns += (text[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == start || i - start > 9) return std::nullopt;
        fraction = nanoseconds(ns);
    }
    if (i >= text.size()) return std::nullopt;
    minutes offset{0};
    if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
    } else if (text[i] == '+' || text[i] == '-') {
        int oh = 0, om = 0;
        if (!digits(text, i + 1, 2, oh) || i + 3 >= text.size() || text[i + 3] != ':' || !digits(text, i + 4, 2, om) ||
            oh > 23 || om > 59)
            return std::nullopt;
        offset = hours(oh) + minutes(om);
        if (text[i] == '-') offset = -offset;
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != text.size()) return std::nullopt;
    const year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                              std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const auto tp = sys_days(date) + hours(hour) + minutes(minute) + seconds(second) - offset;
    return time_point_cast<system_clock::duration>(tp + fraction);
}

void read_jwt(ObjectReader& top, Config& config) {
    auto section = top.object("jwt");
    if (!section) return;
    JwtConfig jwt;
    bool ok = true;
    if (auto issuer = section->string("issuer", Need::required); issuer && !issuer->empty()) {
        jwt.issuer = std::move(*issuer);
    } else {
        if (issuer) section->error("issuer", "must not be empty");
        ok = false;
    }
    if (auto audience = section->string("audience", Need::required); audience && !audience->empty()) {
        jwt.audience = std::move(*audience);
    } else {
        if (audience) section->error("audience", "must not be empty");
        ok = false;
    }
    if (auto jwks = read_path(*section, "jwks_file", config.base_dir, Need::required)) {
        jwt.jwks_file = std::move(*jwks);
    } else {
        ok = false;
    }
    if (auto leeway = section->integer("leeway_s", 0, kMaxLeewayS)) jwt.leeway = std::chrono::seconds(*leeway);
    section->reject_unknown_keys();
    if (ok) config.jwt = std::move(jwt);
}

void read_client_identity(ObjectReader& entry, ClientConfig& client, KeyOwners& owners) {
    const auto claim = [&](const ObjectReader& at, const KeyDigest& digest, std::string_view key, std::string what) {
        auto [owner, inserted] = owners.emplace(digest, std::move(what));
        if (!inserted) at.error(key, "same key as " + owner->second);
    };
    if (auto text = entry.string("key_sha256")) {
        if (auto digest = key_digest(*text)) {
            client.key_sha256 = *digest;
            claim(entry, *digest, "key_sha256", "client " + json_quoted(client.name));
        } else {
            entry.error("key_sha256", "must be \"sha256:\" followed by 64 hex digits (see hash-key)");
        }
    }
    if (const json::array* keys = entry.array("keys")) {
        const std::string keys_path = entry.path_of("keys");
        if (keys->empty()) entry.error("keys", "must list at least one key");
        for (std::size_t i = 0; i < keys->size(); ++i) {
            auto key_entry = ObjectReader::open((*keys)[i], element_path(keys_path, i), entry.errors());
            if (!key_entry) continue;
            ClientKey key;
            bool ok = true;
            if (auto id = key_entry->string("id", Need::required)) {
                if (!is_valid_name(*id)) {
                    key_entry->error("id", invalid_name_message());
                    ok = false;
                } else if (std::any_of(client.keys.begin(), client.keys.end(),
                                       [&](const ClientKey& k) { return k.id == *id; })) {
                    key_entry->error("id", "duplicate key id " + json_quoted(*id));
                    ok = false;
                }
                key.id = std::move(*id);
            } else {
                ok = false;
            }
            if (auto text = key_entry->string("sha256", Need::required)) {
                if (auto digest = key_digest(*text)) {
                    key.sha256 = *digest;
                    claim(*key_entry, *digest, "sha256", "key " + json_quoted(key.id) + " of client " + json_quoted(client.name));
                } else {
                    key_entry->error("sha256", "must be \"sha256:\" followed by 64 hex digits (see hash-key)");
                    ok = false;
                }
            } else {
                ok = false;
            }
            if (auto text = key_entry->string("not_after", Need::optional, true)) {
                if (auto when = parse_rfc3339(*text)) {
                    key.not_after = *when;
                } else {
                    key_entry->error("not_after", "must be an RFC 3339 time such as \"2027-01-01T00:00:00Z\"");
                    ok = false;
                }
            }
            key_entry->reject_unknown_keys();
            if (ok) client.keys.push_back(std::move(key));
        }
    }
    if (auto subject = entry.string("jwt_subject")) {
        if (subject->empty()) {
            entry.error("jwt_subject", "must not be empty");
        } else {
            client.jwt_subject = std::move(*subject);
        }
    }
}

void check_identities(ObjectReader& top, const Config& config, const std::set<std::string, std::less<>>& keyless) {
    std::map<std::string_view, std::string_view> owner_of_subject;
    std::map<std::pair<MtlsMatch::Field, std::string_view>, std::string_view> owner_of_certificate;
    std::map<std::uint32_t, std::string_view> owner_of_uid;
    for (const auto& client : config.clients) {
        const std::string entry_path = member_path("/clients", client.name);
        if (keyless.contains(client.name))
            top.errors().add(entry_path, "needs an identity: key_sha256, keys, jwt_subject, mtls or unix_uid");
        if (client.mtls) {
            if (!config.tls || !config.tls->client_ca_file)
                top.errors().add(member_path(entry_path, "mtls"), "needs \"tls\" with \"client_ca_file\"");
            auto [owner, inserted] = owner_of_certificate.emplace(std::pair{client.mtls->field, std::string_view(client.mtls->value)}, client.name);
            if (!inserted)
                top.errors().add(member_path(entry_path, "mtls"), "same certificate name as client " + json_quoted(owner->second));
        }
        if (client.unix_uid) {
            if (!config.listen_unix)
                top.errors().add(member_path(entry_path, "unix_uid"), "needs a unix socket listener (\"listen\": \"unix:PATH\")");
            auto [owner, inserted] = owner_of_uid.emplace(*client.unix_uid, client.name);
            if (!inserted)
                top.errors().add(member_path(entry_path, "unix_uid"), "same uid as client " + json_quoted(owner->second));
        }
        if (!client.jwt_subject) continue;
        if (!config.jwt) top.errors().add(member_path(entry_path, "jwt_subject"), "needs the top-level \"jwt\" section");
        auto [owner, inserted] = owner_of_subject.emplace(*client.jwt_subject, client.name);
        if (!inserted)
            top.errors().add(member_path(entry_path, "jwt_subject"),
                             "same subject as client " + json_quoted(owner->second));
    }
}

}  // namespace giosg::config_detail
