#include "upstream/catalogue_fetch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/url/parse.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls_context.hpp"
#include "upstream/connection.hpp"

namespace giosg {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kMaxPages = 1000;
constexpr std::size_t kMaxPageBytes = 32u << 20;
constexpr int kFetchTimeouts = 4;  // the whole fetch, all pages: at most 4 × upstream.timeout_ms
constexpr std::size_t kMaxHeadBytes = 65536;
using Clock = std::chrono::steady_clock;

// The path and query of a `next` link, or an error when it points anywhere but the upstream.
std::optional<std::string> same_origin_target(const UpstreamUrl& upstream, std::string_view next, std::string& error) {
    auto parsed = boost::urls::parse_uri(next);
    if (!parsed) {
        error = "catalogue page has an invalid next link";
        return std::nullopt;
    }
    const auto& url = *parsed;
    const bool tls = url.scheme() == "https";
    const std::uint16_t port = url.has_port() ? url.port_number() : (tls ? 443 : 80);
    std::string host(url.host_address());
    if (!(tls == upstream.tls && (url.scheme() == "https" || url.scheme() == "http") && host == upstream.host &&
          port == upstream.port && !url.has_userinfo())) {
        error = "catalogue next link points to another origin than the upstream; refused";
        return std::nullopt;
    }
    std::string target(url.encoded_path());
    if (target.empty()) target = "/";
    if (url.has_query()) {
        target.push_back('?');
        target.append(url.encoded_query());
    }
    return target;
}

/// A TLS handshake that failed because the upstream's certificate did not verify.
bool certificate_verify_failed(const net::error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

asio::awaitable<std::string> get_page(upstream::Pool& pool, const UpstreamConfig& config, const Secret& token,
                                      const std::string& target, Clock::time_point fetch_deadline,
                                      std::string& error, bool& tls_verify_failed) {
    const std::string fetch_too_long =
        "the catalogue fetch took longer than " + std::to_string(kFetchTimeouts) + " × upstream.timeout_ms";
    if (Clock::now() >= fetch_deadline) {  // before connecting: the connect has its own timeout
        error = fetch_too_long;
        co_return std::string{};
    }
    auto lease = co_await pool.acquire();
    if (!lease.connection) {
        tls_verify_failed = certificate_verify_failed(lease.error);
        error = "cannot connect to the upstream: " + lease.error.message();
        co_return std::string{};
    }
    auto& connection = *lease.connection;
    std::string request;
    request.reserve(256 + target.size());
    request.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(config.url.authority);
    request.append("\r\nAuthorization: Token ").append(token.reveal());
    request.append("\r\nAccept: application/json\r\nUser-Agent: giosg-gateway/" GIOSG_GATEWAY_VERSION "\r\n\r\n");
    // One deadline for the whole page, head and body: a trickling upstream cannot hold start-up
    // (and the fallback to policy.file) by sending a byte now and then. The fetch as a whole has
    // its own deadline too.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(fetch_deadline - Clock::now());
    if (left.count() <= 0) {
        error = fetch_too_long;
        co_return std::string{};
    }
    const bool fetch_deadline_first = left < config.timeout;  // which deadline a timeout below is
    connection.expires_after(std::min(config.timeout, left));
    net::error_code ec;
    co_await connection.write(ec, asio::buffer(request));
    std::fill(request.begin(), request.end(), '\0');  // the token should not linger in this buffer
    if (ec) {
        error = "cannot send the catalogue request: " + ec.message();
        co_return std::string{};
    }
    http::ResponseHead head;
    std::size_t head_bytes = 0;
    const auto head_error = co_await upstream::read_response_head(connection, false, head, head_bytes, kMaxHeadBytes);
    if (head_error != upstream::HeadError::none) {
        error = head_error == upstream::HeadError::timeout ? "the upstream did not answer the catalogue request in time"
                                                           : "the upstream answered the catalogue request invalidly";
        co_return std::string{};
    }
    const int status = head.status;
    const bool keep_alive = head.keep_alive;
    connection.buffer().consume(head_bytes);
    std::string body;
    net::BodyReader reader(connection, connection.buffer(), head.body, head.content_length);
    while (!reader.done() && reader.error() == net::BodyError::none) {
        const auto piece = co_await reader.next();
        body.append(piece);
        if (body.size() > kMaxPageBytes) {
            error = "catalogue page larger than 32 MiB";
            co_return std::string{};
        }
    }
    if (reader.error() != net::BodyError::none) {
        if (reader.io_error() != boost::beast::error::timeout) error = "catalogue response body broke off";
        else if (fetch_deadline_first) error = fetch_too_long;
        else error = "the upstream did not send the catalogue page within upstream.timeout_ms";
        co_return std::string{};
    }
    if (keep_alive) pool.release(std::move(lease.connection));
    if (status != 200) {
        error = "the upstream answered the catalogue request with status " + std::to_string(status);
        co_return std::string{};
    }
    co_return body;
}
}  // namespace

asio::awaitable<CatalogueFetch> fetch_catalogue(asio::any_io_executor executor, const UpstreamConfig& upstream,
                                                asio::ssl::context* tls, const Secret& token) {
    CatalogueFetch result;
    upstream::Pool pool(executor, upstream, tls, upstream::Pool::Options{.max_idle = 1});
    std::string target = "/api/v5/endpoints";
    std::set<std::string> seen;
    const auto deadline = Clock::now() + kFetchTimeouts * upstream.timeout;
    for (;;) {
        if (!seen.insert(target).second) {
            result.error = "catalogue next links loop back to " + target;
            break;
        }
        if (result.pages == kMaxPages) {
            result.error = "catalogue has more than 1000 pages";
            break;
        }
        std::string error;
        const std::string body =
            co_await get_page(pool, upstream, token, target, deadline, error, result.tls_verify_failed);
        if (!error.empty()) {
            result.error = std::move(error);
            break;
        }
        ++result.pages;
        auto page = parse_catalogue_page(body);
        if (!page.page) {
            result.error = "catalogue page " + std::to_string(result.pages) + " is invalid: " +
                           (page.errors.empty() ? std::string("unparsable") : page.errors.front().to_string());
            break;
        }
        for (auto& e : page.page->entries) result.entries.push_back(std::move(e));
        if (!page.page->next) break;
        auto next = same_origin_target(upstream.url, *page.page->next, error);
        if (!next) {
            result.error = std::move(error);
            break;
        }
        target = std::move(*next);
    }
    pool.close_idle();
    if (!result.ok()) result.entries.clear();
    co_return result;
}

CatalogueFetch fetch_catalogue_blocking(const UpstreamConfig& upstream, const Secret& token) {
    asio::io_context ioc(1);
    std::shared_ptr<asio::ssl::context> tls;
    CatalogueFetch result;
    try {
        if (upstream.url.tls) tls = net::make_tls_client_context(upstream.ca_file, "upstream.ca_file");
    } catch (const std::exception& e) {
        result.error = e.what();
        return result;
    }
    asio::co_spawn(ioc, fetch_catalogue(ioc.get_executor(), upstream, tls.get(), token),
                   [&](std::exception_ptr ep, CatalogueFetch fetched) {
                       if (ep) {
                           try {
                               std::rethrow_exception(ep);
                           } catch (const std::exception& e) {
                               result.error = std::string("catalogue fetch failed: ") + e.what();
                           }
                       } else {
                           result = std::move(fetched);
                       }
                   });
    ioc.run();
    return result;
}

CatalogueFile read_catalogue_file(const std::filesystem::path& file) {
    CatalogueFile result;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        result.errors.push_back({"", "cannot read catalogue file " + file.string()});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto page = parse_catalogue_page(text.str());
    if (!page.page) {
        for (auto& e : page.errors) result.errors.push_back({e.path, file.string() + ": " + e.message});
        if (result.errors.empty()) result.errors.push_back({"", file.string() + ": invalid catalogue"});
        return result;
    }
    if (page.page->next) {
        result.errors.push_back({"/next", file.string() + ": a catalogue snapshot must be a single page (next is not null)"});
        return result;
    }
    result.entries = std::move(page.page->entries);
    return result;
}

namespace {

// on_widening "hold" at start-up: the snapshot file is the table in force, the live catalogue
// what it drifts to.
void hold_to_snapshot(const Config& config, PolicyLoad& load) {
    if (!config.policy.file) {
        load.warnings.push_back("policy.on_widening is \"hold\" but no policy.file snapshot is configured: the live "
                                "catalogue is in force unreviewed");
        return;
    }
    auto file = read_catalogue_file(*config.policy.file);
    if (!file.errors.empty()) {
        load.warnings.push_back("policy.on_widening is \"hold\" but the snapshot cannot be read (" +
                                file.errors.front().message + "): the live catalogue is in force unreviewed");
        return;
    }
    auto outcome = reconcile_catalogue(file.entries, load.entries, PolicyConfig::OnWidening::hold);
    load.entries = std::move(outcome.in_force);
    load.changes = std::move(outcome.changes);
    if (const auto held = load.held().size(); held != 0)
        load.origin += ", " + std::to_string(held) + " change(s) held against " + config.policy.file->string();
}

}  // namespace

std::vector<PolicyChange> PolicyLoad::held() const {
    std::vector<PolicyChange> result;
    for (const auto& c : changes)
        if (!c.applied) result.push_back(c);
    return result;
}

PolicyLoad load_policy(const Config& config, const CredentialSet& credentials) {
    PolicyLoad load;
    const auto& policy = config.policy;
    if (policy.source == PolicyConfig::Source::upstream) {
        const auto token = credentials.find(policy.credential);
        std::string why;
        if (token == credentials.end()) {
            why = "credential \"" + policy.credential + "\" is not loaded";
        } else {
            auto fetched = fetch_catalogue_blocking(config.upstream, token->second);
            if (fetched.ok()) {
                load.entries = std::move(fetched.entries);
                load.origin = "upstream " + config.upstream.url.origin + " (" + std::to_string(fetched.pages) + " pages)";
                if (policy.on_widening == PolicyConfig::OnWidening::hold) hold_to_snapshot(config, load);
                load.table = PolicyTable::compile(load.entries);
                return load;
            }
            why = fetched.error;
            load.tls_verify_failed = fetched.tls_verify_failed;
        }
        if (!policy.file) {
            load.errors.push_back({"/policy/source", "live catalogue fetch failed (" + why + ") and no policy.file snapshot is configured"});
            return load;
        }
        load.warnings.push_back("live catalogue fetch failed (" + why + "); using the snapshot " + policy.file->string());
    }
    if (!policy.file) {
        load.errors.push_back({"/policy/file", "no catalogue snapshot configured"});
        return load;
    }
    auto file = read_catalogue_file(*policy.file);
    if (!file.errors.empty()) {
        for (auto& e : file.errors) load.errors.push_back({"/policy/file", e.message});
        return load;
    }
    load.entries = std::move(file.entries);
    load.table = PolicyTable::compile(load.entries);
    load.origin = "file " + policy.file->string();
    return load;
}

}  // namespace giosg
