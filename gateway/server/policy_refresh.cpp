#include "server/policy_refresh.hpp"

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "admin/metrics.hpp"
#include "audit/policy_change_record.hpp"
#include "audit/writer.hpp"
#include "net/io.hpp"
#include "net/tls_context.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::server {

namespace asio = boost::asio;

void report_policy_changes(const std::vector<PolicyChange>& changes, std::size_t held, ChangeSinks sinks) {
    std::string line;
    for (const PolicyChange& change : changes) {
        // A catalogue change alters who may call what: worth a warning whether it applied or not.
        spdlog::warn("policy change {}: {}", change.applied ? "applied" : "held", change.line());
        sinks.metrics.policy_changes.count(change);
        line.clear();
        append_policy_change_json(change, std::chrono::system_clock::now(), line);
        sinks.audit.submit(sinks.ring, line);
    }
    sinks.metrics.policy_changes.set_held(held);
    if (!changes.empty() && held != 0) {
        spdlog::warn("{} catalogue change(s) held: review them with `giosg-gateway policy diff`, update the policy "
                     "snapshot file and reload to accept them",
                     held);
    }
}

asio::awaitable<void> policy_refresh_loop(asio::io_context& ioc, Server& server, std::shared_ptr<const Snapshot> base,
                                          const CredentialSet& credentials, PolicyDrift drift, ChangeSinks sinks) {
    const Config& config = *base->config;
    const auto token = credentials.find(config.policy.credential);
    if (config.policy.refresh.count() == 0 || config.policy.source != PolicyConfig::Source::upstream ||
        token == credentials.end())
        co_return;
    std::shared_ptr<asio::ssl::context> tls;
    if (config.upstream.url.tls) tls = net::make_tls_client_context(config.upstream.ca_file, "upstream.ca_file");
    asio::steady_timer timer(ioc);
    for (;;) {
        timer.expires_after(config.policy.refresh);
        auto [ec] = co_await timer.async_wait(net::use_nothrow);
        if (ec) co_return;
        auto fetched = co_await fetch_catalogue(ioc.get_executor(), config.upstream, tls.get(), token->second);
        if (!fetched.ok()) {
            spdlog::warn("policy refresh failed ({}); keeping the current table", fetched.error);
            continue;
        }
        const auto changes = drift.refresh(fetched.entries);
        report_policy_changes(changes, drift.held().size(), sinks);
        auto table = PolicyTable::compile(drift.in_force());
        sinks.metrics.policy_endpoints.store(table->size(), std::memory_order_relaxed);
        spdlog::info("policy refreshed: {} endpoints from {}{}", table->size(), config.upstream.url.origin,
                     drift.held().empty() ? std::string() : ", " + std::to_string(drift.held().size()) + " change(s) held");
        base = with_policy(*base, std::move(table), "upstream " + config.upstream.url.origin);
        server.publish(base);
    }
}

}  // namespace giosg::server
