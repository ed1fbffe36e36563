#pragma once
// Steps 2-6 of CONTRACT §3 as one pure function over const data: no Asio, no allocation.
#include <string_view>

#include "common/reason.hpp"
#include "identity/client_table.hpp"
#include "policy/catalogue.hpp"

namespace giosg {

struct Decision {
    Reason reason = Reason::ok;
    const ClientConfig* client = nullptr;    // set once authenticated
    std::size_t client_index = 0;
    const Endpoint* endpoint = nullptr;      // set once the path matched
    const MethodRule* rule = nullptr;        // set once the method is allowed
    std::string_view organization_id;        // the path segment, when the pattern has one

    [[nodiscard]] bool allowed() const noexcept { return reason == Reason::ok; }
};

struct RequestFacts {
    std::string_view method;
    std::string_view path;                   // validated by http::parse_target
    std::string_view authorization;          // first Authorization value
    std::size_t authorization_count = 0;
};

/// Steps 2 (authenticate) to 6 (scope), in that order; the first failing step decides.
Decision decide(const PolicyTable& policy, const ClientTable& clients, const RequestFacts& request) noexcept;

/// Steps 3 to 6 for an already known client (used by `decide` and by `explain`).
Decision decide_for_client(const PolicyTable& policy, const ClientConfig& client,
                           std::string_view method, std::string_view path) noexcept;

}  // namespace giosg
