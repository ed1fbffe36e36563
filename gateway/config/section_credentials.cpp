// "credentials": where each server-side token comes from (load_credentials() reads them later),
// and the names the clients and the policy refer to.
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

bool is_env_var_name(std::string_view name) noexcept {
    if (name.empty() || is_ascii_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

}  // namespace

void read_credentials(ObjectReader& top, Config& config, CredentialNames& names) {
    const json::value* section = top.get("credentials", Need::required);
    if (section == nullptr) return;
    const json::object* credentials = section->if_object();
    if (credentials == nullptr) {
        top.error("credentials", "must be an object");
        return;
    }
    names.known_ = true;
    ErrorList& errors = top.errors();
    if (credentials->empty()) top.error("credentials", "must have at least one entry");
    for (const auto& member : *credentials) {
        const std::string name(member.key().data(), member.key().size());
        names.names_.insert(name);
        std::string entry_path = member_path("/credentials", name);
        if (!is_valid_name(name)) errors.add(entry_path, invalid_name_message());
        auto entry = ObjectReader::open(member.value(), std::move(entry_path), errors);
        if (!entry) continue;
        CredentialConfig credential;
        const json::value* env = entry->get("token_env");
        const json::value* file = entry->get("token_file");
        if ((env == nullptr) == (file == nullptr)) {
            errors.add(entry->path(), "must have exactly one of \"token_env\" or \"token_file\"");
        } else if (env != nullptr) {
            credential.source = CredentialConfig::Source::env;
            if (auto variable = entry->string("token_env")) {
                if (is_env_var_name(*variable)) {
                    credential.env = std::move(*variable);
                } else {
                    entry->error("token_env", "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
                }
            }
        } else {
            credential.source = CredentialConfig::Source::file;
            if (auto token_file = read_path(*entry, "token_file", config.base_dir, Need::required)) {
                credential.file = std::move(*token_file);
            }
        }
        credential.rate = read_rate(*entry);
        entry->reject_unknown_keys();
        config.credentials.emplace(name, std::move(credential));
    }
}

std::optional<std::string> CredentialNames::reference(ObjectReader& reader, std::string_view key, Need need,
                                                      bool nullable) const {
    auto name = reader.string(key, need, nullable);
    if (name && known_ && !names_.contains(*name)) reader.error(key, "unknown credential " + json_quoted(*name));
    return name;
}

}  // namespace giosg::config_detail
