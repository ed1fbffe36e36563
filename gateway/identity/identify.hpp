#pragma once
// The identify stage (docs/architecture.md): decides, in one place, who is calling. Today the
// internal key of the Authorization header; certificates, JWTs and the unix peer uid join here,
// and the rest of the pipeline sees only "client X". Pure: no Asio, no allocation.
#include <cstddef>
#include <string_view>

#include "identity/client_table.hpp"
#include "common/reason.hpp"

namespace giosg {

/// What the request presented to prove who it is.
struct PresentedCredentials {
    std::string_view authorization;        // the first Authorization value
    std::size_t authorization_count = 0;   // how many Authorization fields there were
};

struct Identity {
    Reason reason = Reason::not_authenticated;  // ok or not_authenticated
    const ClientConfig* client = nullptr;       // set when ok
    std::size_t client_index = 0;               // index into ClientTable::clients()
    std::string_view detail;                    // why not, safe to send (static text)

    [[nodiscard]] bool known() const noexcept { return reason == Reason::ok; }
};

/// Missing, unknown, or more than one Authorization header: not authenticated (401).
Identity identify(const ClientTable& clients, const PresentedCredentials& presented) noexcept;

}  // namespace giosg
