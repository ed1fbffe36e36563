#include "cli/live_config.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "audit/record.hpp"
#include "cli/logging.hpp"
#include "server/policy_refresh.hpp"

namespace giosg::cli {

namespace {

std::string_view trigger_name(ReloadTrigger trigger) {
    switch (trigger) {
        case ReloadTrigger::signal: return "signal";
        case ReloadTrigger::admin: return "admin";
        case ReloadTrigger::file: return "file";
    }
    return "signal";
}

bool same_host_port(const std::optional<HostPort>& a, const std::optional<HostPort>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->host == b->host && a->port == b->port);
}

/// The settings that cannot change while serving (docs/reference.md §5 "Reload"): kept at their
/// running values in `next`; returns their names where `next` asked for another value.
std::vector<std::string> keep_restart_settings(const Config& running, Config& next) {
    std::vector<std::string> kept;
    const auto keep = [&](bool same, std::string_view name, auto apply) {
        if (same) return;
        kept.emplace_back(name);
        apply();
    };
    keep(running.listen.host == next.listen.host && running.listen.port == next.listen.port, "listen",
         [&] { next.listen = running.listen; });
    keep(same_host_port(running.admin_listen, next.admin_listen), "admin_listen",
         [&] { next.admin_listen = running.admin_listen; });
    keep(running.workers == next.workers, "workers", [&] { next.workers = running.workers; });
    // The listeners are opened once: the unix socket's path and mode, and whether the host:port
    // one speaks TLS. The TLS files and settings themselves are re-read (docs/reference.md §7).
    const auto same_unix = [](const std::optional<UnixListen>& a, const std::optional<UnixListen>& b) {
        return a.has_value() == b.has_value() && (!a || (a->path == b->path && a->mode == b->mode));
    };
    keep(running.listen_tcp == next.listen_tcp && same_unix(running.listen_unix, next.listen_unix), "listen",
         [&] {
             next.listen_tcp = running.listen_tcp;
             next.listen_unix = running.listen_unix;
         });
    keep(running.tls.has_value() == next.tls.has_value(), "tls (on or off)", [&] { next.tls = running.tls; });
    // Each worker's Redis connection is made at start (docs/reference.md §8).
    const auto& rr = running.rate_limits;
    auto& nr = next.rate_limits;
    const auto same_redis = [](const std::optional<RedisAddress>& a, const std::optional<RedisAddress>& b) {
        return a.has_value() == b.has_value() &&
               (!a || (a->host == b->host && a->port == b->port && a->db == b->db &&
                       a->password.has_value() == b->password.has_value() &&
                       (!a->password || a->password->reveal() == b->password->reveal())));
    };
    keep(rr.store == nr.store && same_redis(rr.redis, nr.redis) && rr.timeout == nr.timeout,
         "rate_limits.store, redis_url, timeout_ms", [&] {
             nr.store = rr.store;
             nr.redis = rr.redis;
             nr.timeout = rr.timeout;
         });
    // The workers' upstream pools and TLS context are made once.
    const auto& ru = running.upstream;
    auto& nu = next.upstream;
    keep(ru.url.origin == nu.url.origin, "upstream.url", [&] { nu.url = ru.url; });
    keep(ru.ca_file == nu.ca_file, "upstream.ca_file", [&] { nu.ca_file = ru.ca_file; });
    keep(ru.connect_timeout == nu.connect_timeout, "upstream.connect_timeout_ms",
         [&] { nu.connect_timeout = ru.connect_timeout; });
    keep(ru.max_idle_connections == nu.max_idle_connections, "upstream.max_idle_connections",
         [&] { nu.max_idle_connections = ru.max_idle_connections; });
    // The audit writer owns its file, key and syslog connection; only on_failure is read per request.
    const auto& ra = running.audit;
    auto& na = next.audit;
    const bool same_syslog = ra.syslog.has_value() == na.syslog.has_value() &&
                             (!ra.syslog || (ra.syslog->address.host == na.syslog->address.host &&
                                             ra.syslog->address.port == na.syslog->address.port &&
                                             ra.syslog->tls == na.syslog->tls && ra.syslog->ca_file == na.syslog->ca_file &&
                                             ra.syslog->facility == na.syslog->facility &&
                                             ra.syslog->queue == na.syslog->queue));
    const bool same_audit = ra.path == na.path && ra.to_stdout == na.to_stdout && ra.fsync == na.fsync &&
                            ra.fsync_interval == na.fsync_interval && ra.rotate_bytes == na.rotate_bytes &&
                            ra.keep == na.keep && ra.signing_key_file == na.signing_key_file &&
                            ra.checkpoint_interval == na.checkpoint_interval && same_syslog;
    keep(same_audit, "audit (all but on_failure)", [&] {
        const auto on_failure = na.on_failure;
        na = ra;
        na.on_failure = on_failure;
    });
    return kept;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(std::move(line));
    return lines;
}

}  // namespace

LiveConfig::LiveConfig(const Loaded& loaded, std::shared_ptr<const Snapshot> snapshot, server::Server& server,
                       Metrics& metrics, AuditWriter& audit, AuditRing& audit_ring, Readiness& readiness,
                       AdminServer* admin)
    : current_(std::move(snapshot)),
      credentials_(loaded.credentials),
      config_sha256_(loaded.config->file_sha256),
      server_(server),
      metrics_(metrics),
      audit_(audit),
      audit_ring_(audit_ring),
      readiness_(readiness),
      admin_(admin) {
    readiness_.attach_audit(&audit_);
    readiness_.set_policy_loaded(current_->policy != nullptr);
    readiness_.set_credentials_loaded(true);  // serve starts only with every credential loaded
    apply_operations(*current_->config);
    adopt_policy_load(loaded.policy, current_->config->policy.on_widening);
}

const Secret* LiveConfig::credential(const std::string& name) const {
    const auto it = credentials_.find(name);
    return it == credentials_.end() ? nullptr : &it->second;
}

std::shared_ptr<const Snapshot> LiveConfig::build(std::shared_ptr<const Config> config,
                                                  const CredentialSet& credentials,
                                                  std::shared_ptr<const PolicyTable> policy,
                                                  std::string policy_origin,
                                                  std::shared_ptr<boost::asio::ssl::context> listener_tls) {
    auto made = make_snapshot(std::move(config), credentials, std::move(policy), std::move(policy_origin),
                              std::move(listener_tls));
    auto snapshot = std::make_shared<Snapshot>(*made);
    snapshot->metric_slots.clear();
    for (const auto& client : snapshot->config->clients) snapshot->metric_slots.push_back(metrics_.client_slot(client.name));
    return snapshot;
}

void LiveConfig::publish(std::shared_ptr<const Snapshot> snapshot) {
    if (current_ && current_->limits && snapshot->limits && current_->limits != snapshot->limits)
        snapshot->limits->carry_over(*current_->limits);
    current_ = snapshot;
    metrics_.policy_endpoints.store(current_->policy->size(), std::memory_order_relaxed);
    server_.publish(std::move(snapshot));
}

void LiveConfig::apply_operations(const Config& config) {
    readiness_.set_audit_required(config.audit.on_failure == AuditConfig::OnFailure::deny);
    if (admin_ != nullptr) admin_->set_token(config.admin_token_sha256);
    apply_log_config(config.log);
}

void LiveConfig::audit_reload(bool ok, ReloadTrigger trigger, std::string_view config_sha256) {
    line_.clear();
    line_.append("{\"kind\":\"reload\",\"ts\":\"");
    append_rfc3339_ms(std::chrono::system_clock::now(), line_);
    line_.append("\",\"result\":\"");
    line_.append(ok ? "ok" : "error");
    line_.append("\",\"trigger\":\"");
    line_.append(trigger_name(trigger));
    line_.append("\",\"config_sha256\":\"");
    line_.append(config_sha256);
    line_.append("\"}\n");
    audit_.submit(audit_ring_, line_);
}

AdminReloadResult LiveConfig::reload(ReloadTrigger trigger) {
    AdminReloadResult result;
    const Config& running = *current_->config;
    spdlog::info("reload ({}): reading {}", trigger_name(trigger), running.file.string());
    std::ostringstream problems_text;
    bool problems = false;
    // The checks of `check`, on the config and every file it names.
    std::optional<Loaded> loaded = load_everything(running.file.string(), problems_text, problems, true);
    if (loaded) result.config_sha256 = loaded->config->file_sha256;
    for (auto& line : lines_of(problems_text.str())) {
        if (line.starts_with("warning: ")) {
            spdlog::warn("reload: {}", line.substr(9));
            result.warnings.push_back(line.substr(9));
        } else {
            result.errors.push_back(std::move(line));
        }
    }
    std::shared_ptr<const Snapshot> next;
    if (loaded && !problems) {
        auto config = std::make_shared<Config>(*loaded->config);
        const auto kept = keep_restart_settings(running, *config);
        try {
            // TLS switched on or off is kept: then so is the running context, whose files the
            // new config may no longer name or the operator may have removed.
            const bool keep_tls = running.tls.has_value() != loaded->config->tls.has_value();
            next = build(config, loaded->credentials, loaded->policy.table, loaded->policy.origin,
                         keep_tls ? current_->listener_tls : nullptr);
        } catch (const std::exception& e) {
            result.errors.emplace_back(e.what());
        }
        if (next && !kept.empty()) {
            std::string names;
            for (const auto& k : kept) names += (names.empty() ? "" : ", ") + k;
            spdlog::warn("reload: {} changed but cannot change while serving; kept until a restart", names);
            result.warnings.push_back(names + ": changed; kept until a restart");
        }
    }
    if (!next) {
        if (result.errors.empty()) result.errors.emplace_back("the configuration is invalid");
        for (const auto& e : result.errors) spdlog::error("reload: {}", e);
        spdlog::error("reload failed: {} problem(s); the running configuration stays in force", result.errors.size());
        metrics_.reloads_error.fetch_add(1, std::memory_order_relaxed);
        audit_reload(false, trigger, result.config_sha256);
        result.ok = false;
        result.config_sha256.clear();
        return result;
    }
    credentials_ = loaded->credentials;
    config_sha256_ = result.config_sha256;
    token_file_errors_.clear();
    publish(next);
    adopt_policy_load(loaded->policy, next->config->policy.on_widening);
    apply_operations(*next->config);
    readiness_.set_policy_loaded(true);
    readiness_.set_credentials_loaded(true);
    metrics_.reloads_ok.fetch_add(1, std::memory_order_relaxed);
    audit_reload(true, trigger, config_sha256_);
    spdlog::info("reload ({}): config {} in force: {} clients, {} credentials, policy {} endpoints from {}",
                 trigger_name(trigger), config_sha256_.substr(0, 12), next->config->clients.size(),
                 credentials_.size(), next->policy->size(), next->policy_origin);
    result.ok = true;
    return result;
}

void LiveConfig::check_token_files() {
    const Config& config = *current_->config;
    // A FIFO (or another special file) is read at start and at a reload only: opening one that
    // no writer opens again would block this thread, and with it the signals.
    Config regular_files = config;
    const auto re_readable = [](const CredentialConfig& source) {
        std::error_code ec;
        const auto type = std::filesystem::status(source.file, ec).type();
        return source.source == CredentialConfig::Source::file &&
               (type == std::filesystem::file_type::regular || type == std::filesystem::file_type::not_found);
    };
    std::erase_if(regular_files.credentials, [&](const auto& entry) { return !re_readable(entry.second); });
    const auto fresh = load_credentials(regular_files);
    // Only token files change while serving; an environment variable is read once per reload.
    CredentialSet next = credentials_;
    std::vector<std::string> changed;
    for (const auto& [name, source] : config.credentials) {
        if (!regular_files.credentials.contains(name)) continue;
        const auto it = fresh.credentials.find(name);
        if (it == fresh.credentials.end()) {
            std::string why = "unreadable";
            const std::string path = "/credentials/" + name + "/token_file";
            for (const auto& e : fresh.errors)
                if (e.path == path) why = e.message;
            if (token_file_errors_[name] != why) {
                token_file_errors_[name] = why;
                metrics_.token_file_errors.fetch_add(1, std::memory_order_relaxed);
                spdlog::error("{}: {}; the last good token stays in use", path, why);
            }
            continue;
        }
        if (token_file_errors_.erase(name) > 0) spdlog::info("/credentials/{}/token_file: readable again", name);
        const auto current = next.find(name);
        if (current != next.end() && current->second.reveal() == it->second.reveal()) continue;
        next.insert_or_assign(name, it->second);
        changed.push_back(name);
    }
    if (changed.empty()) return;
    try {
        auto snapshot = build(current_->config, next, current_->policy, current_->policy_origin, current_->listener_tls);
        credentials_ = std::move(next);
        publish(std::move(snapshot));
    } catch (const std::exception& e) {
        spdlog::error("token file change not applied: {}", e.what());
        metrics_.reloads_error.fetch_add(1, std::memory_order_relaxed);
        audit_reload(false, ReloadTrigger::file, config_sha256_);
        return;
    }
    for (const auto& name : changed)
        spdlog::info("/credentials/{}/token_file changed: the new token is used from the next forwarded call", name);
    metrics_.reloads_ok.fetch_add(1, std::memory_order_relaxed);
    audit_reload(true, ReloadTrigger::file, config_sha256_);
}

void LiveConfig::adopt_policy_load(const PolicyLoad& load, OnWidening mode) {
    drift_.emplace(load.entries, mode, load.held());
    server::report_policy_changes(load.changes, drift_->held().size(), {metrics_, audit_, audit_ring_});
}

void LiveConfig::refresh_policy(const std::vector<CatalogueEntry>& live) {
    const auto changes = drift_->refresh(live);
    server::report_policy_changes(changes, drift_->held().size(), {metrics_, audit_, audit_ring_});
    auto table = PolicyTable::compile(drift_->in_force());
    const std::string& origin = current_->config->upstream.url.origin;
    spdlog::info("policy refreshed: {} endpoints from {}{}", table->size(), origin,
                 drift_->held().empty() ? std::string() : ", " + std::to_string(drift_->held().size()) + " change(s) held");
    publish(with_policy(*current_, std::move(table), "upstream " + origin));
}

std::vector<std::filesystem::path> LiveConfig::token_folders() const {
    std::vector<std::filesystem::path> folders;
    for (const auto& [name, source] : current_->config->credentials) {
        if (source.source != CredentialConfig::Source::file) continue;
        auto folder = source.file.parent_path();
        if (std::find(folders.begin(), folders.end(), folder) == folders.end()) folders.push_back(std::move(folder));
    }
    return folders;
}

}  // namespace giosg::cli
