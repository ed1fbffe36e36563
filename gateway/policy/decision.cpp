#include "policy/decision.hpp"

namespace giosg {

Decision decide_for_client(const PolicyTable& policy, const ClientConfig& client, std::string_view method,
                           std::string_view path, bool method_override) noexcept {
    Decision d;
    d.client = &client;
    const MatchResult match = policy.match(path);
    if (match.endpoint == nullptr) {
        d.reason = Reason::unknown_endpoint;
        return d;
    }
    d.endpoint = match.endpoint;
    d.organization_id = match.organization_id;

    if (method_override) {
        d.reason = Reason::bad_request;
        d.detail = "Method override headers are not accepted.";
        return d;
    }
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
    const Identity identity = identify(clients, {request.authorization, request.authorization_count}, request.now);
    if (!identity.known()) {
        Decision d;
        d.reason = identity.reason;
        d.detail = identity.detail;
        return d;
    }
    Decision d = decide_for_client(policy, *identity.client, request.method, request.path, request.method_override);
    d.client_index = identity.client_index;
    return d;
}

}  // namespace giosg
