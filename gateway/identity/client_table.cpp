#include "identity/client_table.hpp"

#include "common/ascii.hpp"
#include "common/sha256.hpp"

namespace giosg {

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

ClientTable::ClientTable(std::vector<ClientConfig> clients) : clients_(std::move(clients)) {}

AuthResult ClientTable::authenticate(std::string_view authorization,
                                     std::size_t authorization_count) const noexcept {
    AuthResult result;
    if (authorization_count != 1) return result;  // none, or ambiguous: never guess which one counts
    const auto key = extract_client_key(authorization);
    if (key.empty()) return result;
    const KeyDigest digest = sha256(key);
    const ClientConfig* found = nullptr;
    std::size_t found_index = 0;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        // No early exit: the loop's duration does not depend on where (or whether) it matches.
        const bool equal = digest_equal(digest, clients_[i].key_sha256);
        if (equal && found == nullptr) {
            found = &clients_[i];
            found_index = i;
        }
    }
    if (found != nullptr) {
        result.reason = Reason::ok;
        result.client = found;
        result.client_index = found_index;
    }
    return result;
}

const ClientConfig* ClientTable::find(std::string_view name) const noexcept {
    for (const auto& c : clients_)
        if (c.name == name) return &c;
    return nullptr;
}

}  // namespace giosg
