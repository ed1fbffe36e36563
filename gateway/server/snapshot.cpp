#include "server/snapshot.hpp"

#include <boost/asio/ssl/context.hpp>

#include <stdexcept>

#include "net/tls_server_context.hpp"

namespace giosg {

std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const Config> config, const CredentialSet& credentials,
                                              std::shared_ptr<const PolicyTable> policy, std::string policy_origin,
                                              std::shared_ptr<boost::asio::ssl::context> listener_tls) {
    auto snapshot = std::make_shared<Snapshot>();
    std::shared_ptr<const JwtVerifier> jwt;
    if (config->jwt) {
        std::string error;
        auto jwks = Jwks::load(config->jwt->jwks_file, error);
        if (!jwks) throw std::invalid_argument("/jwt/jwks_file: " + error);
        jwt = std::make_shared<const JwtVerifier>(*config->jwt, std::move(*jwks));
    }
    snapshot->clients = std::make_shared<const ClientTable>(config->clients, std::move(jwt));
    for (const auto& client : config->clients) {
        const auto it = credentials.find(client.credential);
        if (it == credentials.end())
            throw std::invalid_argument("credential \"" + client.credential + "\" of client \"" + client.name + "\" is not loaded");
        std::string line = "Authorization: Token ";
        line.append(it->second.reveal());
        line.append("\r\n");
        snapshot->upstream_authorization.emplace_back(std::move(line));
    }
    if (auto origin = relay::parse_origin(config->upstream.url.origin)) snapshot->upstream_origin = std::move(*origin);
    if (config->public_url) snapshot->public_origin = relay::PublicOrigin::from_public_url(*config->public_url);
    snapshot->limits = std::make_shared<limits::LocalLimits>(*config);
    if (listener_tls) snapshot->listener_tls = std::move(listener_tls);
    else if (config->tls) snapshot->listener_tls = net::make_tls_server_context(*config->tls);
    snapshot->config = std::move(config);
    snapshot->policy = std::move(policy);
    snapshot->policy_origin = std::move(policy_origin);
    return snapshot;
}

std::shared_ptr<const Snapshot> with_policy(const Snapshot& base, std::shared_ptr<const PolicyTable> policy,
                                            std::string policy_origin) {
    auto snapshot = std::make_shared<Snapshot>(base);
    snapshot->policy = std::move(policy);
    snapshot->policy_origin = std::move(policy_origin);
    return snapshot;
}

}  // namespace giosg
