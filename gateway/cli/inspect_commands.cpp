// check, explain, hash-key, policy fetch, policy diff: the commands that answer and exit.
#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "audit/signing.hpp"
#include "audit/writer.hpp"
#include "identity/client_table.hpp"
#include "identity/jwt.hpp"
#include "common/base64url.hpp"
#include "common/sha256.hpp"
#include "cli/commands.hpp"
#include "http/chars.hpp"
#include "http/head.hpp"
#include "http/target.hpp"
#include "net/tls_server_context.hpp"
#include "policy/decision.hpp"
#include "server/server.hpp"

namespace giosg::cli {

namespace {

constexpr std::size_t kMinKeyLength = 32;  // a shorter key is guessable, whatever its alphabet

boost::json::array string_array(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

}  // namespace

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
    if (const auto& jwt = loaded.config->jwt) {
        std::string error;
        if (!Jwks::load(jwt->jwks_file, error)) {
            err << "/jwt/jwks_file: " << error << "\n";
            problems = true;
        }
    }
    if (const auto& admin = loaded.config->admin_listen; admin && !loaded.config->admin_token_sha256) {
        const bool loopback = admin->host.starts_with("127.") || admin->host == "::1" || admin->host == "localhost";
        if (!loopback)
            err << "warning: /admin_listen: " << admin->host
                << " is reachable beyond loopback and admin_token_sha256 is not set: anyone who reaches it can "
                   "reload the config and read the metrics\n";
    }
    loaded.policy = load_policy(*loaded.config, loaded.credentials);
    for (const auto& w : loaded.policy.warnings) err << "warning: " << w << "\n";
    if (!loaded.policy.table) {
        for (const auto& e : loaded.policy.errors) err << e.to_string() << "\n";
        problems = true;
    }
    return loaded;
}

namespace {
/// One line: where the buckets live and how many limits there are (never the Redis password).
void print_rate_limits(const Config& c, std::ostream& out) {
    const auto rated_clients = std::count_if(c.clients.begin(), c.clients.end(), [](const ClientConfig& client) { return client.rate.has_value(); });
    const auto capped_clients = std::count_if(c.clients.begin(), c.clients.end(), [](const ClientConfig& client) { return client.max_in_flight > 0; });
    const auto rated_credentials = std::count_if(c.credentials.begin(), c.credentials.end(), [](const auto& entry) { return entry.second.rate.has_value(); });
    const auto& limits = c.rate_limits;
    static constexpr std::string_view kOnFailure[] = {"local", "deny", "allow"};
    out << "rate limits: " << rated_clients << " client rates, " << capped_clients << " in-flight caps, "
        << rated_credentials << " credential budgets; store ";
    if (limits.store == RateLimitsConfig::Store::redis && limits.redis) {
        const bool v6 = limits.redis->host.find(':') != std::string::npos;
        out << "redis " << (v6 ? "[" : "") << limits.redis->host << (v6 ? "]" : "") << ":" << limits.redis->port << "/" << limits.redis->db << ", timeout "
            << limits.timeout.count() << " ms, on_store_failure "
            << kOnFailure[static_cast<int>(limits.on_store_failure)] << "\n";
    } else {
        out << "local\n";
    }
}
}  // namespace

int cmd_check(const Args& a, std::ostream& out, std::ostream& err) {
    bool problems = false;
    auto loaded = load_everything(a.at("--config"), err, problems, true);
    if (!loaded || problems) return 1;
    // An unreachable upstream with a usable snapshot is a warning; a certificate that does not
    // verify is not (`serve` still starts from the snapshot, and says so).
    if (loaded->policy.tls_verify_failed) {
        err << "/upstream/url: the upstream's TLS certificate failed verification (see the warning above; "
               "set upstream.ca_file for a private CA)\n";
        return 1;
    }
    const Config& c = *loaded->config;
    if (c.tls) {
        // The files `serve` would load: a certificate, key or CA file it cannot use fails here.
        try {
            net::make_tls_server_context(*c.tls);
        } catch (const std::exception& e) {
            err << "giosg-gateway: " << e.what() << "\n";
            return 1;
        }
    }
    out << "config: ok (" << c.file.string() << ")\n";
    out << "listen: ";
    if (c.listen_tcp) out << c.listen.host << ":" << c.listen.port << (c.tls ? " (TLS)" : "");
    if (c.listen_unix) out << (c.listen_tcp ? " and " : "") << "unix:" << c.listen_unix->path.string();
    out << ", workers: " << server::Server::resolve_worker_count(c.workers) << "\n";
    if (c.admin_listen) out << "admin: " << c.admin_listen->host << ":" << c.admin_listen->port << "\n";
    out << "upstream: " << c.upstream.url.origin << "\n";
    out << "credentials: " << loaded->credentials.size() << " loaded\n";
    out << "clients: " << c.clients.size() << "\n";
    out << "policy: " << loaded->policy.table->size() << " endpoints from " << loaded->policy.origin << "\n";
    if (c.policy.on_widening == PolicyConfig::OnWidening::hold) {
        // The snapshot against the live catalogue (docs/reference.md "Catalogue drift").
        const auto held = loaded->policy.held();
        out << "policy changes held: " << held.size() << "\n";
        for (const auto& change : loaded->policy.changes) out << "  " << change.line() << "\n";
    }
    static constexpr std::string_view kFsync[] = {"always", "batch", "never"};
    out << "audit: " << (c.audit.to_stdout ? std::string("stdout") : c.audit.path.string()) << ", fsync "
        << kFsync[static_cast<int>(c.audit.fsync)] << ", on_failure "
        << (c.audit.on_failure == AuditConfig::OnFailure::deny ? "deny" : "allow")
        << (c.audit.signing_key_file ? ", signed checkpoints" : "") << (c.audit.syslog ? ", syslog" : "") << "\n";
    print_rate_limits(c, out);
    return 0;
}

int cmd_explain(const Args& a, std::ostream& out, std::ostream& err) {
    if (!a.has("--client")) return usage_error(err, "explain needs --client NAME");
    bool problems = false;
    auto loaded = load_everything(a.at("--config"), err, problems, false);
    if (!loaded || !loaded->policy.table) return 1;
    const ClientTable clients(loaded->config->clients);
    const ClientConfig* client = clients.find(a.at("--client"));
    if (client == nullptr) {
        err << "giosg-gateway: unknown client \"" << a.at("--client") << "\"\n";
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
    // Under on_widening "hold": the changes not in force, so that a surprising answer is explained.
    if (const auto held = loaded->policy.held(); !held.empty()) {
        boost::json::array lines;
        for (const auto& change : held) lines.emplace_back(change.line());
        result["held_changes"] = std::move(lines);
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
    if (key.size() < kMinKeyLength)
        err << "giosg-gateway: hash-key: warning: the key is shorter than " << kMinKeyLength
            << " characters; use gen-key for a 256-bit key\n";
    out << format_key_digest(sha256(key)) << "\n";
    OPENSSL_cleanse(key.data(), key.size());
    return 0;
}

int cmd_gen_key(std::ostream& out, std::ostream& err) {
    std::array<std::uint8_t, 32> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        err << "giosg-gateway: gen-key: no random bytes from OpenSSL\n";
        return 1;
    }
    std::string key;
    base64url_append(random, key);
    OPENSSL_cleanse(random.data(), random.size());
    out << "{\"key\": \"" << key << "\", \"key_sha256\": \"" << format_key_digest(sha256(key)) << "\"}\n";
    OPENSSL_cleanse(key.data(), key.size());
    return 0;
}

int cmd_policy_fetch(const Args& a, std::ostream& out, std::ostream& err) {
    auto result = load_config(a.at("--config"));
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
    if (a.has("--out")) {
        const std::filesystem::path path = a.at("--out");
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

}  // namespace giosg::cli
