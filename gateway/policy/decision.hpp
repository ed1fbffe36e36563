#pragma once
// The decide stage: steps 3-6 of docs/reference.md §3 (catalogue match, method, organisation,
// scope) as one pure function over const data: no Asio, no allocation.
#include <chrono>
#include <string_view>

#include "common/reason.hpp"
#include "identity/client_table.hpp"
#include "identity/identify.hpp"
#include "policy/catalogue.hpp"

namespace giosg {

struct Decision {
    Reason reason = Reason::ok;
    const ClientConfig* client = nullptr;    // set once authenticated
    std::size_t client_index = 0;
    const Endpoint* endpoint = nullptr;      // set once the path matched
    const MethodRule* rule = nullptr;        // set once the method is allowed
    std::string_view organization_id;        // the path segment, when the pattern has one
    std::string_view detail;                 // why not, when the reason's default text says too little

    [[nodiscard]] bool allowed() const noexcept { return reason == Reason::ok; }
};

struct RequestFacts {
    std::string_view method;
    std::string_view path;                   // validated by http::parse_target
    std::string_view authorization;          // first Authorization value
    std::size_t authorization_count = 0;
    bool method_override = false;            // an X-HTTP-Method-Override-like header was sent
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();  // for key expiry
};

/// Steps 2 (authenticate) to 6 (scope), in that order; the first failing step decides.
Decision decide(const PolicyTable& policy, const ClientTable& clients, const RequestFacts& request) noexcept;

/// Steps 3 to 6 for an already identified client (the session's decide stage, `explain`).
/// A request that carries a method-override header is bad_request at the method step: the
/// method checked must be the method forwarded.
Decision decide_for_client(const PolicyTable& policy, const ClientConfig& client, std::string_view method,
                           std::string_view path, bool method_override = false) noexcept;

}  // namespace giosg
