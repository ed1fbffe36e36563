// "clients": the internal callers, their key hashes, scopes and organizations.
#include <map>

#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

/// An organization id is compared with one raw path segment, so it must be able to be one.
bool is_path_segment(std::string_view id) noexcept {
    return std::all_of(id.begin(), id.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F && c != '/' && c != '\\' && c != '?' && c != '#';
    });
}

void read_scopes(ObjectReader& entry, ClientConfig& client) {
    const json::array* scopes = entry.array("scopes");
    if (scopes == nullptr) return;
    const std::string scopes_path = entry.path_of("scopes");
    for (std::size_t i = 0; i < scopes->size(); ++i) {
        const json::string* name = (*scopes)[i].if_string();
        if (name == nullptr) {
            entry.errors().add(element_path(scopes_path, i), "must be a string");
            continue;
        }
        const std::string_view scope_name(name->data(), name->size());
        const std::optional<ScopeSet> scope = parse_scope(scope_name);
        if (!scope) {
            entry.errors().add(element_path(scopes_path, i), "unknown scope " + json_quoted(scope_name));
        } else if ((client.scopes & *scope) != 0) {
            entry.errors().add(element_path(scopes_path, i), "duplicate scope " + json_quoted(scope_name));
        } else {
            client.scopes |= *scope;
            client.scope_names.emplace_back(scope_name);
        }
    }
}

void read_organizations(ObjectReader& entry, ClientConfig& client) {
    const json::array* organizations = entry.array("organizations", Need::required);
    if (organizations == nullptr) return;
    const std::string organizations_path = entry.path_of("organizations");
    if (organizations->empty()) {
        entry.error("organizations", "must list at least one organization id, or [\"*\"] for all");
        return;
    }
    const bool wildcard =
        std::any_of(organizations->begin(), organizations->end(),
                    [](const json::value& id) { return id.is_string() && id.get_string() == "*"; });
    if (wildcard && organizations->size() > 1) {
        entry.error("organizations", "\"*\" must be the only entry");
        return;
    }
    client.all_organizations = wildcard;
    if (wildcard) return;
    for (std::size_t i = 0; i < organizations->size(); ++i) {
        const std::string path = element_path(organizations_path, i);
        const json::string* id = (*organizations)[i].if_string();
        if (id == nullptr || id->empty()) {
            entry.errors().add(path, "must be a non-empty string");
            continue;
        }
        const std::string_view id_text(id->data(), id->size());
        if (!is_path_segment(id_text)) {
            entry.errors().add(path,
                               "must be usable as a path segment (no spaces, control characters, "
                               "non-ASCII bytes or / \\ ? #)");
        } else if (std::find(client.organizations.begin(), client.organizations.end(), id_text) !=
                   client.organizations.end()) {
            entry.errors().add(path, "duplicate organization " + json_quoted(id_text));
        } else {
            client.organizations.emplace_back(id_text);
        }
    }
}

}  // namespace

void read_clients(ObjectReader& top, const CredentialNames& credentials, Config& config) {
    const json::value* section = top.get("clients", Need::required);
    if (section == nullptr) return;
    const json::object* clients = section->if_object();
    if (clients == nullptr) {
        top.error("clients", "must be an object");
        return;
    }
    ErrorList& errors = top.errors();
    if (clients->empty()) top.error("clients", "must have at least one entry");
    KeyOwners owner_of_key;
    std::set<std::string, std::less<>> keyless;
    for (const auto& member : *clients) {
        ClientConfig client;
        client.name.assign(member.key().data(), member.key().size());
        std::string entry_path = member_path("/clients", client.name);
        if (!is_valid_name(client.name)) errors.add(entry_path, invalid_name_message());
        auto entry = ObjectReader::open(member.value(), std::move(entry_path), errors);
        if (!entry) continue;

        const bool presents_identity = entry->has_non_null("key_sha256") || entry->has_non_null("keys") ||
                                       entry->has_non_null("jwt_subject") || entry->has_non_null("mtls") ||
                                       entry->has_non_null("unix_uid");
        read_client_identity(*entry, client, owner_of_key);
        read_client_transport_identity(*entry, client);
        if (!presents_identity) keyless.insert(client.name);
        if (auto credential = credentials.reference(*entry, "credential", Need::required)) {
            client.credential = std::move(*credential);
        }
        read_scopes(*entry, client);
        read_organizations(*entry, client);
        client.rate = read_rate(*entry);
        if (auto cap = entry->integer("max_in_flight", 1, kMaxInFlight)) client.max_in_flight = static_cast<std::uint32_t>(*cap);
        entry->reject_unknown_keys();
        config.clients.push_back(std::move(client));
    }
    check_identities(top, config, keyless);
}

}  // namespace giosg::config_detail
