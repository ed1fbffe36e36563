#pragma once
// Step 2 of the decision order, "identify": who is calling, by the internal client key in the
// Authorization field. No Asio; takes the field values.
#include <cstddef>
#include <string_view>
#include <vector>

#include "common/reason.hpp"
#include "config/config.hpp"

namespace giosg {

struct AuthResult {
    Reason reason = Reason::not_authenticated;  // ok or not_authenticated
    const ClientConfig* client = nullptr;
    std::size_t client_index = 0;               // index into ClientTable::clients()
};

/// The configured clients, looked up by the SHA-256 of the presented key.
class ClientTable {
public:
    explicit ClientTable(std::vector<ClientConfig> clients);

    /// `authorization_count` is how many Authorization fields the request carried and
    /// `authorization` the first one's value. Accepts "Bearer <key>" and "Token <key>" (scheme
    /// case-insensitive). Every configured digest is compared in constant time, without an early
    /// exit, so the time taken says nothing about which client (if any) was close.
    [[nodiscard]] AuthResult authenticate(std::string_view authorization,
                                          std::size_t authorization_count) const noexcept;

    [[nodiscard]] const ClientConfig* find(std::string_view name) const noexcept;
    [[nodiscard]] const std::vector<ClientConfig>& clients() const noexcept { return clients_; }

private:
    std::vector<ClientConfig> clients_;
};

/// Extracts the key from "Bearer <key>" / "Token <key>"; empty when the value has another form.
std::string_view extract_client_key(std::string_view authorization) noexcept;

}  // namespace giosg
