// "listen", "admin_listen", "workers" and "public_url": where the gateway accepts connections
// and the origin clients reach it by.
#include <boost/url/parse.hpp>

#include "common/ascii.hpp"
#include "config/address.hpp"
#include "config/sections.hpp"

namespace giosg::config_detail {
namespace {

constexpr std::int64_t kMaxWorkers = 1024;

}  // namespace

// An origin and nothing else: links are rewritten onto it with the upstream's path and query.
std::optional<std::string> public_origin(std::string_view text, std::string& error) {
    const auto uri = boost::urls::parse_absolute_uri(text);
    if (!uri) {
        error = "must be an absolute URL such as \"https://giosg-gw.corp.example\"";
        return std::nullopt;
    }
    const std::string scheme = ascii_lower(uri->scheme());
    if (scheme != "http" && scheme != "https") {
        error = "scheme must be http or https";
        return std::nullopt;
    }
    if (uri->encoded_host().empty() || uri->has_userinfo() || (uri->has_port() && uri->port().empty())) {
        error = "must name a host (and optionally a port), without user information";
        return std::nullopt;
    }
    if ((!uri->encoded_path().empty() && uri->encoded_path() != "/") || uri->has_query() || uri->has_fragment()) {
        error = "must be an origin only: no path, query or fragment";
        return std::nullopt;
    }
    std::string origin(text);
    if (origin.back() == '/') origin.pop_back();
    return origin;
}

std::optional<HostPort> host_port(const ObjectReader& reader, std::string_view key, std::string_view text) {
    std::string error;
    std::optional<HostPort> result = parse_host_port(text, error);
    if (!result) reader.error(key, std::move(error));
    return result;
}

// "listen": "host:port", "unix:PATH", or a list of one of each (docs/reference.md §7).
void read_listen_entries(ObjectReader& top, Config& config) {
    const json::value* value = top.get("listen", Need::required);
    if (value == nullptr) return;
    const std::string path = top.path_of("listen");
    config.listen_tcp = false;
    bool tcp_seen = false;
    const auto entry = [&](const json::value& item, const std::string& item_path) {
        const json::string* text = item.if_string();
        if (text == nullptr) {
            top.errors().add(item_path, "must be a string");
            return;
        }
        const std::string_view view(text->data(), text->size());
        if (view.starts_with("unix:")) {
            if (config.listen_unix) top.errors().add(item_path, "only one unix socket listener is supported");
            else read_unix_listen(top.errors(), item_path, view, config);
            return;
        }
        if (tcp_seen) {
            top.errors().add(item_path, "only one host:port listener is supported");
            return;
        }
        tcp_seen = true;
        std::string error;
        if (auto listen = parse_host_port(view, error)) {
            config.listen = std::move(*listen);
            config.listen_tcp = true;
        } else {
            top.errors().add(item_path, std::move(error));
        }
    };
    if (const json::array* list = value->if_array()) {
        if (list->empty() || list->size() > 2)
            top.error("listen", "a list must hold one or two entries: a host:port and a unix:PATH");
        for (std::size_t i = 0; i < list->size() && i < 2; ++i) entry((*list)[i], element_path(path, i));
    } else {
        entry(*value, path);
    }
}

void read_listen(ObjectReader& top, Config& config) {
    read_listen_entries(top, config);
    if (auto text = top.string("admin_listen", Need::optional, true)) {
        config.admin_listen = host_port(top, "admin_listen", *text);
        // The workers listen with SO_REUSEPORT; the admin listener on the same address would
        // fail to bind at start. The workers' "::" is IPv6 only; the admin's "::" takes IPv4
        // too. Names are taken for IPv4; a clash they hide still fails at bind, naming the key.
        const auto& admin = config.admin_listen;
        const auto& listen = config.listen;
        const auto ipv6 = [](const std::string& host) { return host.find(':') != std::string::npos; };
        if (admin && config.listen_tcp && admin->port != 0 && admin->port == listen.port &&
            (admin->host == listen.host || admin->host == "::" ||
             (listen.host == "0.0.0.0" && !ipv6(admin->host)) ||
             (admin->host == "0.0.0.0" && !ipv6(listen.host)) || (listen.host == "::" && ipv6(admin->host))))
            top.error("admin_listen", "must not be the address of /listen");
    }
    if (auto text = top.string("public_url", Need::optional, true)) {
        std::string error;
        config.public_url = public_origin(*text, error);
        if (!config.public_url) top.error("public_url", std::move(error));
    }
    if (auto workers = top.integer("workers", 0, kMaxWorkers)) {
        config.workers = static_cast<unsigned>(*workers);
    }
}

}  // namespace giosg::config_detail
