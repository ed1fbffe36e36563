// serve: the gateway itself, its admin listener, signals and the policy refresh.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <iostream>

#include "admin/admin.hpp"
#include "admin/metrics.hpp"
#include "audit/writer.hpp"
#include "cli/commands.hpp"
#include "net/io.hpp"
#include "net/tls_context.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::cli {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> refresh_loop(asio::io_context& ioc, server::Server& server, std::shared_ptr<const Snapshot> base,
                                   const CredentialSet& credentials, Metrics& metrics) {
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
        auto table = PolicyTable::compile(fetched.entries);
        metrics.policy_endpoints.store(table->size(), std::memory_order_relaxed);
        spdlog::info("policy refreshed: {} endpoints from {}", table->size(), config.upstream.url.origin);
        base = with_policy(*base, std::move(table), "upstream " + config.upstream.url.origin);
        server.publish(base);
    }
}

// Every request allocates and frees a few coroutine frames and buffers; with glibc's default
// 128 KiB trim threshold a worker's arena shrinks and grows again all the time (an mprotect or
// brk per cycle, measured as ~2 % of a worker's CPU). Keep up to 32 MiB of free heap instead.
void tune_allocator() {
    ::mallopt(M_TRIM_THRESHOLD, 32 << 20);
    ::mallopt(M_TOP_PAD, 4 << 20);
}

}  // namespace

int cmd_serve(const Args& a, std::ostream& err) {
    tune_allocator();
    bool problems = false;
    auto loaded = load_everything(a.at("--config"), err, problems, true);
    if (!loaded || problems) {
        err << "giosg-gateway: not starting: the problems above must be fixed first\n";
        return 1;
    }
    const auto config = loaded->config;
    try {
        auto snapshot = make_snapshot(config, loaded->credentials, loaded->policy.table, loaded->policy.origin);
        std::vector<std::string> client_names;
        for (const auto& c : config->clients) client_names.push_back(c.name);
        const unsigned workers = server::Server::resolve_worker_count(config->workers);
        Metrics metrics(client_names, workers);
        metrics.policy_endpoints.store(snapshot->policy->size());

        AuditWriter audit(AuditWriter::Options::from_config(config->audit));
        metrics.attach_audit(&audit);
        server::Server server(snapshot, audit, metrics, workers);
        std::unique_ptr<AdminServer> admin;
        if (config->admin_listen) {
            admin = std::make_unique<AdminServer>(*config->admin_listen, metrics, [] { return true; });
        }
        // Signal handlers first: a SIGUSR1 or SIGTERM right after "listening" must not kill the process.
        asio::io_context main_ioc(1);
        asio::signal_set signals(main_ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const net::error_code& ec, int signo) {
            if (ec) return;
            spdlog::info("signal {} received: draining", signo);
            main_ioc.stop();
        });
        // SIGUSR1: rotate the audit file (README "Rotation"), as often as it comes. SIGHUP, which
        // would otherwise end the process undrained, is logged and ignored: there is no reload.
        asio::signal_set other_signals(main_ioc, SIGUSR1, SIGHUP);
        std::function<void(const net::error_code&, int)> on_signal = [&](const net::error_code& ec, int signo) {
            if (ec) return;
            if (signo == SIGUSR1) {
                spdlog::info("SIGUSR1 received: rotating the audit file");
                audit.request_rotation();
            } else {
                spdlog::warn("SIGHUP received and ignored: giosg-gateway does not reload its config; restart it");
            }
            other_signals.async_wait(on_signal);
        };
        other_signals.async_wait(on_signal);
        audit.start();
        server.start();
        if (admin) {
            admin->start();
            spdlog::info("admin listening on {}:{}", config->admin_listen->host, admin->port());
        }
        std::string listeners;
        if (config->listen_tcp) {
            listeners = config->listen.host + ":" + std::to_string(server.port());
            if (config->tls) listeners += config->tls->client_ca_file ? " (TLS, client certificates)" : " (TLS)";
        }
        if (config->listen_unix)
            listeners += (listeners.empty() ? "unix:" : " and unix:") + config->listen_unix->path.string();
        spdlog::info("giosg-gateway {} listening on {} ({} workers) -> {}; policy: {} endpoints from {}",
                     GIOSG_GATEWAY_VERSION, listeners, server.worker_count(),
                     config->upstream.url.origin, snapshot->policy->size(), snapshot->policy_origin);

        asio::co_spawn(main_ioc, refresh_loop(main_ioc, server, snapshot, loaded->credentials, metrics),
                       [](std::exception_ptr ep) {
                           if (!ep) return;
                           try {
                               std::rethrow_exception(ep);
                           } catch (const std::exception& e) {
                               spdlog::error("policy refresh stopped: {}", e.what());
                           }
                       });
        main_ioc.run();
        server.stop(std::chrono::seconds(10));
        if (admin) admin->stop();
        audit.stop();
        spdlog::info("stopped; {} audit records written", audit.lines_written());
        return 0;
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}

}  // namespace giosg::cli
