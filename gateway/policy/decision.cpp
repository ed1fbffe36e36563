#include "policy/decision.hpp"

namespace giosg {

Decision decide_for_client(const PolicyTable& policy, const ClientConfig& client,
                           std::string_view method, std::string_view path) noexcept {
    Decision d;
    d.client = &client;
    const MatchResult match = policy.match(path);
    if (match.endpoint == nullptr) {
        d.reason = Reason::unknown_endpoint;
        return d;
    }
    d.endpoint = match.endpoint;
    d.organization_id = match.organization_id;

    const MethodRule* rule = match.endpoint->find_method(method);
    if (rule == nullptr) {
        d.reason = Reason::method_not_allowed;
        return d;
    }
    d.rule = rule;

    if (match.endpoint->organization_segment >= 0 && !client.all_organizations) {
        bool bound = false;
        for (const auto& org : client.organizations) bound = bound || org == match.organization_id;
        if (!bound) {
            d.reason = Reason::organization_forbidden;
            return d;
        }
    }
    if (!scopes_satisfied(rule->scopes, client.scopes)) {
        d.reason = Reason::insufficient_scope;
        return d;
    }
    d.reason = Reason::ok;
    return d;
}

Decision decide(const PolicyTable& policy, const ClientTable& clients, const RequestFacts& request) noexcept {
    const AuthResult auth = clients.authenticate(request.authorization, request.authorization_count);
    if (auth.reason != Reason::ok) {
        Decision d;
        d.reason = auth.reason;
        return d;
    }
    Decision d = decide_for_client(policy, *auth.client, request.method, request.path);
    d.client_index = auth.client_index;
    return d;
}

}  // namespace giosg
