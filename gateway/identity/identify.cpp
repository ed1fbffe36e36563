#include "identity/identify.hpp"

namespace giosg {

Identity identify(const ClientTable& clients, const PresentedCredentials& presented) noexcept {
    Identity identity;
    const AuthResult auth = clients.authenticate(presented.authorization, presented.authorization_count);
    if (auth.reason == Reason::ok) {
        identity.reason = Reason::ok;
        identity.client = auth.client;
        identity.client_index = auth.client_index;
        return identity;
    }
    identity.detail = presented.authorization_count == 0  ? "Authentication credentials were not provided."
                      : presented.authorization_count > 1 ? "More than one Authorization header."
                                                          : "Invalid token.";
    return identity;
}

}  // namespace giosg
