#include "identity/client_table.hpp"

#include <atomic>

#include "common/ascii.hpp"
#include "common/sha256.hpp"

namespace giosg {

namespace {
std::atomic<std::uint64_t> g_generations{0};

bool is_zero(const KeyDigest& digest) noexcept {
    for (const auto byte : digest)
        if (byte != 0) return false;
    return true;
}
}  // namespace

std::string_view extract_client_key(std::string_view authorization) noexcept {
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos) return {};
    const auto scheme = authorization.substr(0, space);
    if (!ascii_iequals(scheme, "bearer") && !ascii_iequals(scheme, "token")) return {};
    auto key = authorization.substr(space + 1);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    // A key is one token68-like word: anything with inner whitespace is not a key we issued.
    if (key.empty() || key.find_first_of(" \t") != std::string_view::npos) return {};
    return key;
}

ClientTable::ClientTable(std::vector<ClientConfig> clients, std::shared_ptr<const JwtVerifier> jwt)
    : clients_(std::move(clients)), jwt_(std::move(jwt)), generation_(++g_generations) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        const auto client = static_cast<std::uint32_t>(i);
        if (!is_zero(clients_[i].key_sha256)) keys_.push_back(KeyEntry{clients_[i].key_sha256, client, -1});
        for (std::size_t k = 0; k < clients_[i].keys.size(); ++k)
            keys_.push_back(KeyEntry{clients_[i].keys[k].sha256, client, static_cast<std::int32_t>(k)});
        if (const auto& mtls = clients_[i].mtls)
            certificate_names_[static_cast<std::size_t>(mtls->field)].emplace(mtls->value, client);
    }
}

std::ptrdiff_t ClientTable::find_certificate(const PeerCertificate& certificate) const {
    std::ptrdiff_t found = -1;
    const auto match = [&](MtlsMatch::Field field, const std::string& name) {
        const auto& names = certificate_names_[static_cast<std::size_t>(field)];
        const auto it = names.find(name);
        if (it == names.end()) return;
        const auto index = static_cast<std::ptrdiff_t>(it->second);
        found = found == -1 || found == index ? index : kAmbiguous;
    };
    for (const auto& uri : certificate.san_uris) match(MtlsMatch::Field::san_uri, uri);
    for (const auto& dns : certificate.san_dns) match(MtlsMatch::Field::san_dns, dns);
    if (certificate.subject_cn) match(MtlsMatch::Field::subject_cn, *certificate.subject_cn);
    return found;
}

std::ptrdiff_t ClientTable::find_uid(std::uint32_t uid) const noexcept {
    for (std::size_t i = 0; i < clients_.size(); ++i)
        if (clients_[i].unix_uid == uid) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

AuthResult ClientTable::find_key(const KeyDigest& digest, std::chrono::system_clock::time_point now) const noexcept {
    AuthResult result;
    const KeyEntry* found = nullptr;
    for (const auto& entry : keys_) {
        // No early exit: the loop's duration does not depend on where (or whether) it matches.
        const bool equal = digest_equal(digest, entry.digest);
        if (equal && found == nullptr) found = &entry;
    }
    if (found == nullptr) return result;
    const ClientConfig& client = clients_[found->client];
    const ClientKey* key = found->key < 0 ? nullptr : &client.keys[static_cast<std::size_t>(found->key)];
    if (key != nullptr && key->not_after && now >= *key->not_after) {
        result.expired = true;
        return result;
    }
    result.reason = Reason::ok;
    result.client = &client;
    result.client_index = found->client;
    result.key = key;
    return result;
}

AuthResult ClientTable::authenticate(std::string_view authorization, std::size_t authorization_count,
                                     std::chrono::system_clock::time_point now) const noexcept {
    if (authorization_count != 1) return {};  // none, or ambiguous: never guess which one counts
    const auto key = extract_client_key(authorization);
    if (key.empty()) return {};
    return find_key(sha256(key), now);
}

AuthResult ClientTable::authenticate(std::string_view authorization, std::size_t authorization_count) const noexcept {
    return authenticate(authorization, authorization_count, std::chrono::system_clock::now());
}

const ClientConfig* ClientTable::find(std::string_view name) const noexcept {
    for (const auto& c : clients_)
        if (c.name == name) return &c;
    return nullptr;
}

std::ptrdiff_t ClientTable::find_subject(std::string_view subject) const noexcept {
    for (std::size_t i = 0; i < clients_.size(); ++i)
        if (clients_[i].jwt_subject && *clients_[i].jwt_subject == subject) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

}  // namespace giosg
