// serve: the gateway itself, its admin listener, signals and the policy refresh.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <iostream>

#include "admin/admin.hpp"
#include "admin/readiness.hpp"
#include "admin/metrics.hpp"
#include "audit/writer.hpp"
#include "cli/allocator.hpp"
#include "cli/io_backend.hpp"
#include "cli/live_config.hpp"
#include "cli/logging.hpp"
#include "cli/token_watch.hpp"
#include "cli/commands.hpp"
#include "net/io.hpp"
#include "net/tls_context.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::cli {

namespace asio = boost::asio;

namespace {

// The policy refresh (policy.source "upstream", refresh_s > 0), with the settings of the config
// in force at each turn: a reload may change them.
asio::awaitable<void> refresh_loop(asio::io_context& ioc, LiveConfig& live) {
    std::shared_ptr<asio::ssl::context> tls;
    asio::steady_timer timer(ioc);
    for (;;) {
        const auto config = live.current()->config;
        const bool enabled = config->policy.refresh.count() > 0 && config->policy.source == PolicyConfig::Source::upstream;
        // Disabled now: look again later, a reload may turn it on.
        timer.expires_after(enabled ? std::chrono::duration_cast<std::chrono::milliseconds>(config->policy.refresh)
                                    : std::chrono::milliseconds(5000));
        auto [ec] = co_await timer.async_wait(net::use_nothrow);
        if (ec) co_return;
        if (!enabled || live.current()->config != config) continue;  // reloaded meanwhile: start over
        const Secret* token = live.credential(config->policy.credential);
        if (token == nullptr) continue;
        if (config->upstream.url.tls && !tls)
            tls = net::make_tls_client_context(config->upstream.ca_file, "upstream.ca_file");
        const Secret token_copy = *token;  // the credential set may change while the fetch runs
        auto fetched = co_await fetch_catalogue(ioc.get_executor(), config->upstream, tls.get(), token_copy);
        if (!fetched.ok()) {
            spdlog::warn("policy refresh failed ({}); keeping the current table", fetched.error);
            continue;
        }
        if (live.current()->config != config) continue;  // a reload during the fetch brought its own table
        live.refresh_policy(fetched.entries);
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
    apply_log_config(config->log);
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
        AuditRing& main_ring = audit.add_producer();  // reload records, from the main thread
        Readiness readiness;
        // Declared before main_ioc: a POST /reload still queued there when serve ends is
        // destroyed with main_ioc, while the admin listener it would answer still exists.
        std::unique_ptr<AdminServer> admin;
        asio::io_context main_ioc(1);
        std::unique_ptr<LiveConfig> live;
        std::unique_ptr<TokenWatch> watch;
        if (config->admin_listen) {
            AdminHooks hooks;
            hooks.not_ready = [&readiness] { return readiness.reasons(); };
            // POST /reload runs on the main thread, like every other change.
            hooks.reload = [&main_ioc, &live, &watch](std::function<void(AdminReloadResult)> done) {
                asio::post(main_ioc, [&live, &watch, done = std::move(done)] {
                    auto result = live->reload(ReloadTrigger::admin);
                    if (result.ok) watch->rewatch();
                    done(std::move(result));
                });
            };
            admin = std::make_unique<AdminServer>(*config->admin_listen, metrics, std::move(hooks));
        }
        live = std::make_unique<LiveConfig>(*loaded, snapshot, server, metrics, audit, main_ring, readiness, admin.get());
        watch = std::make_unique<TokenWatch>(main_ioc, *live);
        // Signal handlers first: a SIGUSR1 or SIGTERM right after "listening" must not kill the process.
        asio::signal_set signals(main_ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const net::error_code& ec, int signo) {
            if (ec) return;
            readiness.set_draining();  // /readyz answers 503 from now on
            spdlog::info("signal {} received: draining", signo);
            main_ioc.stop();
        });
        // SIGUSR1: rotate the audit file (docs/audit.md "Rotation"), as often as it comes.
        // SIGHUP: reload the config (docs/reference.md §5 "Reload").
        asio::signal_set other_signals(main_ioc, SIGUSR1, SIGHUP);
        std::function<void(const net::error_code&, int)> on_signal = [&](const net::error_code& ec, int signo) {
            if (ec) return;
            if (signo == SIGUSR1) {
                spdlog::info("SIGUSR1 received: rotating the audit file");
                audit.request_rotation();
            } else if (live->reload(ReloadTrigger::signal).ok) {
                watch->rewatch();
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
        spdlog::info("giosg-gateway {} listening on {} ({} workers, {}, {}) -> {}; policy: {} endpoints from {}",
                     GIOSG_GATEWAY_VERSION, listeners, server.worker_count(), allocator_name(), io_backend_name(),
                     config->upstream.url.origin, snapshot->policy->size(), snapshot->policy_origin);

        watch->start();
        asio::co_spawn(main_ioc, refresh_loop(main_ioc, *live), [](std::exception_ptr ep) {
            if (!ep) return;
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                spdlog::error("policy refresh stopped: {}", e.what());
            }
        });
        main_ioc.run();
        watch->stop();
        readiness.set_draining();
        server.stop(live->current()->config->drain_timeout);
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
