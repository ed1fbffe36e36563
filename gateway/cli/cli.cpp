#include "cli/cli.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>

#include "admin/admin.hpp"
#include "admin/metrics.hpp"
#include "audit/signing.hpp"
#include "cli/audit_commands.hpp"
#include "audit/writer.hpp"
#include "auth/key_hash.hpp"
#include "config/config.hpp"
#include "http/chars.hpp"
#include "http/head.hpp"
#include "http/target.hpp"
#include "net/tls_context.hpp"
#include "policy/decision.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "upstream/catalogue_fetch.hpp"
#include "upstream/connection.hpp"

namespace giosg::cli {

namespace asio = boost::asio;

std::string usage() {
    return R"(giosg-gateway — authenticating reverse proxy and permission gateway for the giosg HTTP API

Usage:
  giosg-gateway serve --config FILE        run the gateway (also: giosg-gateway --config FILE)
  giosg-gateway check --config FILE        validate config, credentials and policy source; print a summary
  giosg-gateway explain --config FILE --client NAME METHOD TARGET
                                           print the decision `serve` would take, as JSON
  giosg-gateway policy fetch --config FILE [--out FILE]
                                           fetch the live catalogue (GET /api/v5/endpoints, all pages)
  giosg-gateway policy diff OLD NEW        compare two catalogues (exit 0 same, 1 different, 2 unreadable)
  giosg-gateway hash-key                   read a client key on stdin, print sha256:<hex> for the config
)" + std::string(audit_usage()) + R"(  giosg-gateway --help | --version

Exit codes: 0 success, 1 invalid input or failure, 2 usage error; audit verify: 3 intact but for a torn last line.
)";
}

namespace {

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // "--config" -> value
    std::string error;
};

// Options that take a value; every other "--x" is unknown.
const std::vector<std::string> kValueOptions = {"--config", "--client", "--out"};

Args parse_args(const std::vector<std::string>& args, std::size_t from) {
    Args parsed;
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 2 && a.rfind("--", 0) == 0) {
            std::string name = a;
            std::optional<std::string> value;
            if (const auto eq = a.find('='); eq != std::string::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
            }
            if (std::find(kValueOptions.begin(), kValueOptions.end(), name) == kValueOptions.end()) {
                parsed.error = "unknown option " + name;
                return parsed;
            }
            if (!value) {
                if (i + 1 >= args.size()) {
                    parsed.error = "option " + name + " needs a value";
                    return parsed;
                }
                value = args[++i];
            }
            if (parsed.options.count(name)) {
                parsed.error = "option " + name + " given twice";
                return parsed;
            }
            parsed.options[name] = *value;
        } else {
            parsed.positional.push_back(a);
        }
    }
    return parsed;
}

int usage_error(std::ostream& err, const std::string& why) {
    err << "giosg-gateway: " << why << "\n\n" << usage();
    return 2;
}

// Checks that only `allowed` options were given and exactly `positional` positionals.
bool expect_shape(const Args& a, std::initializer_list<const char*> allowed, std::size_t positional, std::string& why) {
    for (const auto& [name, value] : a.options) {
        bool ok = false;
        for (const char* n : allowed) ok = ok || name == n;
        if (!ok) {
            why = "option " + name + " is not valid for this command";
            return false;
        }
    }
    if (a.positional.size() != positional) {
        why = "expected " + std::to_string(positional) + " argument(s), got " + std::to_string(a.positional.size());
        return false;
    }
    return true;
}

void setup_logging() {
    static bool done = false;
    if (done) return;
    done = true;
    auto logger = spdlog::stderr_color_mt("giosg-gateway");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    if (const char* level = std::getenv("GIOSG_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));
}

struct Loaded {
    std::shared_ptr<const Config> config;
    CredentialSet credentials;
    PolicyLoad policy;
};

// Loads the config, then (unless it failed) credentials and policy. Problems are printed one per
// line; returns nullopt when the config itself is unusable.
std::optional<Loaded> load_everything(const std::string& file, std::ostream& err, bool& problems,
                                      bool credentials_required) {
    auto result = load_config(file);
    if (!result.config) {
        for (const auto& e : result.errors) err << e.to_string() << "\n";
        problems = true;
        return std::nullopt;
    }
    Loaded loaded;
    loaded.config = std::make_shared<const Config>(std::move(*result.config));
    auto creds = load_credentials(*loaded.config);
    if (!creds.errors.empty() && credentials_required) {
        for (const auto& e : creds.errors) err << e.to_string() << "\n";
        problems = true;
    }
    loaded.credentials = std::move(creds.credentials);
    if (const auto& ca = loaded.config->upstream.ca_file; ca && !std::ifstream(*ca)) {
        err << "/upstream/ca_file: cannot read " << ca->string() << "\n";
        problems = true;
    }
    const auto& audit = loaded.config->audit;
    if (audit.signing_key_file) {
        try {
            (void)audit::SigningKey::load(*audit.signing_key_file);
        } catch (const std::exception& e) {
            err << "/audit/signing_key_file: " << e.what() << "\n";
            problems = true;
        }
    }
    if (audit.syslog && audit.syslog->ca_file && !std::ifstream(*audit.syslog->ca_file)) {
        err << "/audit/syslog/ca_file: cannot read " << audit.syslog->ca_file->string() << "\n";
        problems = true;
    }
    if (!audit.to_stdout) {
        if (auto problem = audit_path_problem(audit.path)) {
            err << "/audit/path: " << *problem << "\n";
            problems = true;
        }
    }
    loaded.policy = load_policy(*loaded.config, loaded.credentials);
    for (const auto& w : loaded.policy.warnings) err << "warning: " << w << "\n";
    if (!loaded.policy.table) {
        for (const auto& e : loaded.policy.errors) err << e.to_string() << "\n";
        problems = true;
    }
    return loaded;
}

int cmd_check(const Args& a, std::ostream& out, std::ostream& err) {
    bool problems = false;
    auto loaded = load_everything(a.options.at("--config"), err, problems, true);
    if (!loaded || problems) return 1;
    const Config& c = *loaded->config;
    out << "config: ok (" << c.file.string() << ")\n";
    out << "listen: " << c.listen.host << ":" << c.listen.port << ", workers: "
        << server::Server::resolve_worker_count(c.workers) << "\n";
    if (c.admin_listen) out << "admin: " << c.admin_listen->host << ":" << c.admin_listen->port << "\n";
    out << "upstream: " << c.upstream.url.origin << "\n";
    out << "credentials: " << loaded->credentials.size() << " loaded\n";
    out << "clients: " << c.clients.size() << "\n";
    out << "policy: " << loaded->policy.table->size() << " endpoints from " << loaded->policy.origin << "\n";
    static constexpr std::string_view kFsync[] = {"always", "batch", "never"};
    out << "audit: " << (c.audit.to_stdout ? std::string("stdout") : c.audit.path.string()) << ", fsync "
        << kFsync[static_cast<int>(c.audit.fsync)] << ", on_failure "
        << (c.audit.on_failure == AuditConfig::OnFailure::deny ? "deny" : "allow")
        << (c.audit.signing_key_file ? ", signed checkpoints" : "") << (c.audit.syslog ? ", syslog" : "") << "\n";
    return 0;
}

boost::json::array string_array(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

int cmd_explain(const Args& a, std::ostream& out, std::ostream& err) {
    if (!a.options.count("--client")) return usage_error(err, "explain needs --client NAME");
    bool problems = false;
    auto loaded = load_everything(a.options.at("--config"), err, problems, false);
    if (!loaded || !loaded->policy.table) return 1;
    const ClientTable clients(loaded->config->clients);
    const ClientConfig* client = clients.find(a.options.at("--client"));
    if (client == nullptr) {
        err << "giosg-gateway: unknown client \"" << a.options.at("--client") << "\"\n";
        return 1;
    }
    const std::string& method = a.positional[0];
    const std::string& target = a.positional[1];
    boost::json::object result;
    const auto parsed = http::parse_target(target);
    // `serve` answers 400 to a request line whose method is not an HTTP token.
    const bool method_ok = !method.empty() && method.size() <= http::kMaxMethodLength &&
                           std::all_of(method.begin(), method.end(), http::chars::is_tchar);
    Decision d;
    if (!parsed.ok || !method_ok) {
        d.reason = Reason::bad_request;
    } else {
        d = decide_for_client(*loaded->policy.table, *client, method, parsed.target.path);
    }
    result["status"] = reason_status(d.reason);
    result["code"] = reason_code(d.reason);
    result["pattern"] = d.endpoint ? boost::json::value(d.endpoint->pattern) : boost::json::value(nullptr);
    const MethodRule* rule = d.endpoint ? d.endpoint->find_method(method) : nullptr;
    result["required_scopes"] = rule ? string_array(rule->scope_names) : boost::json::array{};
    if (d.endpoint) {
        std::vector<std::string> methods;
        for (const auto& m : d.endpoint->methods) methods.push_back(m.name);
        result["allow"] = string_array(methods);
    } else {
        result["allow"] = nullptr;
    }
    out << boost::json::serialize(result) << "\n";
    return 0;
}

int cmd_hash_key(std::istream& in, std::ostream& out, std::ostream& err) {
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!key.empty() && key.back() == '\n') {
        key.pop_back();
        if (!key.empty() && key.back() == '\r') key.pop_back();
    }
    if (key.empty()) {
        err << "giosg-gateway: hash-key: no key on stdin\n";
        return 1;
    }
    out << format_key_digest(sha256(key)) << "\n";
    std::fill(key.begin(), key.end(), '\0');
    return 0;
}

int cmd_policy_fetch(const Args& a, std::ostream& out, std::ostream& err) {
    auto result = load_config(a.options.at("--config"));
    if (!result.config) {
        for (const auto& e : result.errors) err << e.to_string() << "\n";
        return 1;
    }
    const Config& config = *result.config;
    if (config.policy.credential.empty()) {
        err << "/policy/credential: policy fetch needs a policy credential\n";
        return 1;
    }
    auto creds = load_credentials(config);
    const auto token = creds.credentials.find(config.policy.credential);
    if (token == creds.credentials.end()) {
        for (const auto& e : creds.errors) err << e.to_string() << "\n";
        return 1;
    }
    auto fetched = fetch_catalogue_blocking(config.upstream, token->second);
    if (!fetched.ok()) {
        err << "giosg-gateway: policy fetch: " << fetched.error << "\n";
        return 1;
    }
    const std::string json = serialize_catalogue(fetched.entries);
    if (const auto it = a.options.find("--out"); it != a.options.end()) {
        const std::filesystem::path path = it->second;
        const auto tmp = path.string() + ".tmp";
        {
            std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
            f << json;
            if (!f.flush()) {
                err << "giosg-gateway: cannot write " << tmp << "\n";
                return 1;
            }
        }
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);  // atomic: a reader never sees half a catalogue
        if (ec) {
            err << "giosg-gateway: cannot write " << path.string() << ": " << ec.message() << "\n";
            return 1;
        }
    } else {
        out << json;
    }
    err << "fetched " << fetched.entries.size() << " endpoints in " << fetched.pages << " page(s) from "
        << config.upstream.url.origin << "\n";
    return 0;
}

int cmd_policy_diff(const Args& a, std::ostream& out, std::ostream& err) {
    const auto old_file = read_catalogue_file(a.positional[0]);
    const auto new_file = read_catalogue_file(a.positional[1]);
    bool unreadable = false;
    for (const auto* f : {&old_file, &new_file})
        for (const auto& e : f->errors) {
            err << e.message << "\n";
            unreadable = true;
        }
    if (unreadable) return 2;
    const auto lines = diff_catalogues(old_file.entries, new_file.entries);
    for (const auto& line : lines) out << line << "\n";
    return lines.empty() ? 0 : 1;
}

// --- serve -----------------------------------------------------------------------------------

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

int cmd_serve(const Args& a, std::ostream& err) {
    tune_allocator();
    bool problems = false;
    auto loaded = load_everything(a.options.at("--config"), err, problems, true);
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
        spdlog::info("giosg-gateway {} listening on {}:{} ({} workers) -> {}; policy: {} endpoints from {}",
                     GIOSG_GATEWAY_VERSION, config->listen.host, server.port(), server.worker_count(),
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

}  // namespace

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
    setup_logging();  // stderr only: stdout belongs to command output (explain's JSON, fetch's catalogue)
    if (args.size() < 2) return usage_error(err, "no command given");
    const std::string& cmd = args[1];
    const auto is_help = [](const std::string& a) { return a == "--help" || a == "-h"; };
    if (is_help(cmd) || cmd == "help" || cmd == "--version") {
        if (args.size() > 2) return usage_error(err, cmd + " takes no arguments");
    }
    if (is_help(cmd) || cmd == "help") {
        out << usage();
        return 0;
    }
    // `COMMAND --help` (also after other arguments) shows the usage, unless it is an option's
    // value; after an unknown command it is a usage error like any other.
    const bool known_command = cmd == "serve" || cmd == "check" || cmd == "explain" || cmd == "policy" ||
                               cmd == "audit" || cmd == "hash-key" || cmd.rfind("--", 0) == 0;
    for (std::size_t i = 2; known_command && i < args.size(); ++i) {
        const bool is_value = std::find(kValueOptions.begin(), kValueOptions.end(), args[i - 1]) != kValueOptions.end() ||
                              (args[i - 1] == "--public-key" && cmd == "audit");
        if (is_help(args[i]) && !is_value) {
            out << usage();
            return 0;
        }
    }
    if (cmd == "--version") {
        out << "giosg-gateway " << GIOSG_GATEWAY_VERSION << "\n";
        return 0;
    }
    if (cmd == "audit") {
        return run_audit_command({args.begin() + 2, args.end()}, out, err);
    }
    std::string why;
    if (cmd == "hash-key") {
        const auto a = parse_args(args, 2);
        if (!a.error.empty()) return usage_error(err, a.error);
        if (!expect_shape(a, {}, 0, why)) return usage_error(err, why);
        return cmd_hash_key(in, out, err);
    }
    if (cmd == "policy") {
        if (args.size() < 3) return usage_error(err, "policy needs a subcommand: fetch or diff");
        const auto a = parse_args(args, 3);
        if (!a.error.empty()) return usage_error(err, a.error);
        if (args[2] == "fetch") {
            if (!expect_shape(a, {"--config", "--out"}, 0, why)) return usage_error(err, why);
            if (!a.options.count("--config")) return usage_error(err, "policy fetch needs --config FILE");
            return cmd_policy_fetch(a, out, err);
        }
        if (args[2] == "diff") {
            if (!expect_shape(a, {}, 2, why)) return usage_error(err, why);
            return cmd_policy_diff(a, out, err);
        }
        return usage_error(err, "unknown policy subcommand " + args[2]);
    }
    // serve is the default when the first argument is an option.
    const bool implicit_serve = cmd.rfind("--", 0) == 0;
    const auto a = parse_args(args, implicit_serve ? 1 : 2);
    if (!a.error.empty()) return usage_error(err, a.error);
    if (cmd == "serve" || cmd == "check" || implicit_serve) {
        if (!expect_shape(a, {"--config"}, 0, why)) return usage_error(err, why);
        if (!a.options.count("--config")) return usage_error(err, "--config FILE is required");
        return cmd == "check" ? cmd_check(a, out, err) : cmd_serve(a, err);
    }
    if (cmd == "explain") {
        if (!expect_shape(a, {"--config", "--client"}, 2, why)) return usage_error(err, why);
        if (!a.options.count("--config")) return usage_error(err, "--config FILE is required");
        return cmd_explain(a, out, err);
    }
    return usage_error(err, "unknown command " + cmd);
}

}  // namespace giosg::cli
