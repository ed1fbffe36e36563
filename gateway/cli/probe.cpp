// probe live|ready: asks the running gateway's admin listener (/healthz or /readyz) for container
// health checks without curl (docs/reference.md §1). Exit 0 when it answers 200, else 1.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <ostream>
#include <string>

#include "cli/commands.hpp"

namespace giosg::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kProbeTimeout{2};   // below a typical HEALTHCHECK/kubelet timeout
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

/// Where to reach a listener bound to `host`: a wildcard address is reached over loopback.
std::string reachable_host(const std::string& host) {
    if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
    if (host == "::") return "::1";
    return host;
}

}  // namespace

int cmd_probe(const Args& a, std::ostream& out, std::ostream& err) {
    const std::string& what = a.positional[0];
    if (what != "live" && what != "ready") return usage_error(err, "probe takes live or ready");
    auto loaded = load_config(a.at("--config"));
    if (!loaded.config) {
        for (const auto& e : loaded.errors) err << e.to_string() << "\n";
        return 1;
    }
    const auto& admin = loaded.config->admin_listen;
    if (!admin) {
        err << "giosg-gateway: probe: /admin_listen is not set: there is no admin listener to ask\n";
        return 1;
    }
    const std::string path = what == "live" ? "/healthz" : "/readyz";
    const std::string host = reachable_host(admin->host);
    asio::io_context ioc(1);
    tcp::resolver resolver(ioc);
    tcp::socket socket(ioc);
    std::string answer;
    std::string failure;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: giosg-gateway-admin\r\nConnection: close\r\n\r\n";
    resolver.async_resolve(host, std::to_string(admin->port), [&](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (ec) {
            failure = "cannot resolve " + host + ": " + ec.message();
            return;
        }
        asio::async_connect(socket, results, [&](const boost::system::error_code& cec, const tcp::endpoint&) {
            if (cec) {
                failure = "cannot connect to " + host + ":" + std::to_string(admin->port) + ": " + cec.message();
                return;
            }
            asio::async_write(socket, asio::buffer(request), [&](const boost::system::error_code& wec, std::size_t) {
                if (wec) {
                    failure = "cannot send: " + wec.message();
                    return;
                }
                asio::async_read(socket, asio::dynamic_buffer(answer, kMaxAnswerBytes),
                                 [](const boost::system::error_code&, std::size_t) {});  // until the listener closes
            });
        });
    });
    ioc.run_for(kProbeTimeout);  // every step within one deadline
    if (!ioc.stopped() && failure.empty()) failure = "no answer within 2 s";
    // "HTTP/1.1 200 OK": the status is the second word of the first line.
    const auto first_line = answer.substr(0, answer.find("\r\n"));
    const bool ok = first_line.size() >= 12 && first_line.compare(0, 5, "HTTP/") == 0 &&
                    first_line.substr(first_line.find(' ') + 1, 3) == "200";
    const auto body_at = answer.find("\r\n\r\n");
    if (body_at != std::string::npos) out << answer.substr(body_at + 4);
    if (ok) return 0;
    if (!failure.empty()) err << "giosg-gateway: probe " << what << ": " << failure << "\n";
    else err << "giosg-gateway: probe " << what << ": " << (first_line.empty() ? "no answer" : first_line) << "\n";
    return 1;
}

}  // namespace giosg::cli
