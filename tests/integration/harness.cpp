#include "harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "admin/metrics.hpp"
#include "audit/writer.hpp"
#include "common/sha256.hpp"
#include "config/config.hpp"
#include "server/server.hpp"
#include "server/snapshot.hpp"
#include "run_until.hpp"
#include "upstream/catalogue_fetch.hpp"

extern char** environ;

namespace giosg::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_sink() {
    static auto sink = [] {
        auto s = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100000);
        auto logger = std::make_shared<spdlog::logger>("test", s);
        logger->set_level(spdlog::level::debug);
        spdlog::set_default_logger(logger);
        return s;
    }();
    return sink;
}

std::string json_string(std::string_view s) { return boost::json::serialize(boost::json::value(s)); }

std::string key_hash(const char* key) { return format_key_digest(sha256(key)); }

void write_file(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}


}  // namespace

fs::path make_temp_dir(const std::string& prefix) {
    std::random_device rd;
    for (int i = 0; i < 100; ++i) {
        auto p = fs::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
        if (fs::create_directory(p)) return p;
    }
    throw std::runtime_error("cannot create a temporary folder");
}

void make_test_certificates(const fs::path& dir) {
    write_file(dir / "ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    const std::string d = dir.string();
    const std::string cmd =
        "cd '" + d + "' && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
        "-days 2 -subj '/CN=giosg-gateway test CA' >/dev/null 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
        "-subj '/CN=localhost' >/dev/null 2>&1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile ext.cnf >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed to make test certificates");
}

// ---------------------------------------------------------------------------------------------

Harness::Harness(HarnessOptions options) : options_(std::move(options)) {
    log_sink();
    dir_ = make_temp_dir("giosg-gw-test");
    config_file_ = dir_ / "gateway.json";
    audit_file_ = options_.audit_path.empty() ? dir_ / "audit.jsonl" : fs::path(options_.audit_path);
    const std::string catalogue = std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json";

    std::string ca_member;
    if (options_.start_mock) {
        mock::MockOptions mo;
        mo.catalogue_file = catalogue;
        mo.page_size = options_.page_size;
        mo.expected_token = kUpstreamToken;
        mo.list_pages = options_.mock_list_pages;
        if (options_.tls) {
            make_test_certificates(dir_);
            mo.host = "127.0.0.1";
            mo.tls_cert_file = dir_ / "server.pem";
            mo.tls_key_file = dir_ / "server.key";
            ca_member = R"("ca_file": "ca.pem",)";
        }
        mock_ = std::make_unique<mock::GiosgMock>(mo);
        mock_->start();
        if (!options_.mock_default_fault.empty()) mock_->set_default_fault(options_.mock_default_fault);
        mock_->set_endpoints_failure(options_.mock_endpoints_failure);
    }
    std::string upstream_url = options_.upstream_url.value_or(
        mock_ ? (options_.tls ? "https://localhost:" + std::to_string(mock_->port()) : mock_->origin()) : "");

    write_file(dir_ / "upstream.token", std::string(kUpstreamToken) + "\n");
    const std::string policy_file = options_.policy_file_path.empty() ? catalogue : options_.policy_file_path;
    std::ostringstream cfg;
    cfg << "// written by the integration-test harness\n{\n"
        << "  \"listen\": " << options_.listen_json << ",\n"
        << "  \"workers\": " << options_.workers << ",\n"
        << "  \"upstream\": {" << ca_member << " \"url\": " << json_string(upstream_url)
        << (options_.upstream_json.empty() ? "" : ", " + options_.upstream_json) << "},\n"
        << "  \"credentials\": {\"giosg\": {\"token_file\": \"upstream.token\""
        << (options_.credential_json.empty() ? "" : ", " + options_.credential_json) << "}},\n"
        << "  \"clients\": {\n"
        << "    \"full\": {\"key_sha256\": \"" << key_hash(kKeyFull)
        << "\", \"credential\": \"giosg\", \"scopes\": [\"settings\", \"users\", \"reports\"], \"organizations\": [\"*\"]},\n"
        << "    \"reports\": {\"key_sha256\": \"" << key_hash(kKeyReports)
        << "\", \"credential\": \"giosg\", \"scopes\": [\"reports\"], \"organizations\": [\"" << kOrg << "\"]},\n"
        << "    \"noscope\": {\"key_sha256\": \"" << key_hash(kKeyNoScope)
        << "\", \"credential\": \"giosg\", \"scopes\": [], \"organizations\": [\"" << kOrg << "\"]},\n"
        << options_.clients_json << "\n"
        << "  },\n"
        << options_.top_json << (options_.top_json.empty() ? "" : ",\n")
        << "  \"policy\": {\"source\": \"" << options_.policy_source << "\", "
        << (options_.policy_file ? "\"file\": " + json_string(policy_file) + ", " : "")
        << "\"credential\": \"giosg\", \"refresh_s\": 0},\n"
        << "  \"audit\": {\"path\": " << json_string(audit_file_.string())
        << (options_.audit_json.empty() ? "" : ", " + options_.audit_json) << "},\n"
        << "  \"limits\": {" << options_.limits_json << "},\n"
        << "}\n";
    write_file(config_file_, cfg.str());

    auto loaded = load_config(config_file_);
    if (!loaded.config) {
        std::string all;
        for (const auto& e : loaded.errors) all += e.to_string() + "\n";
        throw std::runtime_error("harness config invalid:\n" + all + cfg.str());
    }
    auto config = std::make_shared<const Config>(std::move(*loaded.config));
    auto creds = load_credentials(*config);
    if (!creds.errors.empty()) throw std::runtime_error("harness credentials: " + creds.errors.front().to_string());
    policy_ = std::make_unique<PolicyLoad>(load_policy(*config, creds.credentials));
    if (!policy_->table) throw std::runtime_error("harness policy: " + policy_->errors.front().to_string());
    auto snapshot = make_snapshot(config, creds.credentials, policy_->table, policy_->origin);
    snapshot_ = snapshot;
    std::vector<std::string> client_names;
    for (const auto& client : config->clients) client_names.push_back(client.name);
    metrics_ = std::make_unique<Metrics>(std::move(client_names), options_.workers);
    auto audit_options = AuditWriter::Options::from_config(config->audit);
    audit_options.inject_write_errno = options_.inject_audit_errno;
    audit_ = std::make_unique<AuditWriter>(std::move(audit_options));
    server_ = std::make_unique<server::Server>(snapshot, *audit_, *metrics_, options_.workers);
    audit_->start();
    server_->start();
}

Harness::~Harness() {
    stop();
    if (mock_) mock_->stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void Harness::stop() {
    if (stopped_) return;
    stopped_ = true;
    server_->stop(options_.drain);
    audit_->stop();
}

std::uint16_t Harness::port() const { return server_->port(); }

std::string Harness::audit_text() const {
    std::ifstream in(audit_file_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<boost::json::object> Harness::audit_records(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::vector<boost::json::object> records;
        std::istringstream lines(audit_text());
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) records.push_back(boost::json::parse(line).as_object());
        if (records.size() >= count || std::chrono::steady_clock::now() >= deadline) return records;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string Harness::log_text() {
    std::string all;
    for (const auto& line : log_sink()->last_formatted()) all += line;
    return all;
}

// ---------------------------------------------------------------------------------------------

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

std::size_t Response::header_count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : headers) n += iequals(h.first, name) ? 1 : 0;
    return n;
}

boost::json::value Response::json() const { return boost::json::parse(body); }

struct RawConnection::Impl {
    asio::io_context ioc;
    tcp::socket socket{ioc};
    beast::flat_buffer buffer;

    // Runs the io_context until `done` or the timeout; cancels what is left.
    void run_for(std::chrono::milliseconds timeout, const bool& done) {
        run_until_done(ioc, timeout, done, [&] {
            boost::system::error_code ec;
            socket.cancel(ec);
        });
    }
};

RawConnection::RawConnection(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
    impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    impl_->socket.set_option(tcp::no_delay(true));
}

RawConnection::~RawConnection() = default;

void RawConnection::send(std::string_view bytes) { asio::write(impl_->socket, asio::buffer(bytes)); }

void RawConnection::shutdown_send() { impl_->socket.shutdown(tcp::socket::shutdown_send); }

std::optional<Response> RawConnection::read_response(std::chrono::milliseconds timeout, bool head_request) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(1 << 20);
    parser.body_limit(256u << 20);
    parser.skip(head_request);
    bool done = false;
    boost::system::error_code result;
    bhttp::async_read(impl_->socket, impl_->buffer, parser, [&](boost::system::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    impl_->run_for(timeout, done);
    if (!done || result) return std::nullopt;
    Response r;
    const auto& msg = parser.get();
    r.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = msg.body();
    return r;
}

std::string RawConnection::read_until_close(std::chrono::milliseconds timeout) {
    std::string out(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
    impl_->buffer.consume(impl_->buffer.size());
    bool done = false;
    std::array<char, 65536> chunk{};
    std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec, std::size_t n) {
        out.append(chunk.data(), n);
        if (ec) {
            done = true;
            return;
        }
        impl_->socket.async_read_some(asio::buffer(chunk), on_read);
    };
    impl_->socket.async_read_some(asio::buffer(chunk), on_read);
    impl_->run_for(timeout, done);
    return out;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
    bool done = false;
    bool closed = false;
    std::array<char, 65536> chunk{};
    impl_->buffer.consume(impl_->buffer.size());
    std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
            closed = ec == asio::error::eof || ec == asio::error::connection_reset;
            done = true;
            return;
        }
        impl_->socket.async_read_some(asio::buffer(chunk), on_read);
    };
    impl_->socket.async_read_some(asio::buffer(chunk), on_read);
    impl_->run_for(timeout, done);
    return closed;
}

Response request(std::uint16_t port, std::string_view method, std::string_view target,
                 const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
    RawConnection c(port);
    std::string req;
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n");
    for (const auto& [n, v] : headers) req.append(n).append(": ").append(v).append("\r\n");
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    req.append("\r\n").append(body);
    c.send(req);
    auto r = c.read_response(std::chrono::seconds(10), method == "HEAD");
    if (!r) throw std::runtime_error("no response to " + std::string(method) + " " + std::string(target));
    return *r;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const fs::path& file, std::string_view text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
}

std::string shell_quote(std::string_view s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}

RunResult run_gateway(const fs::path& dir, const std::vector<std::string>& args, std::chrono::seconds timeout,
                      const std::string& stdin_file) {
    std::string cmd = "cd " + shell_quote(dir.string()) + " && timeout " + std::to_string(timeout.count()) + " " +
                      shell_quote(GIOSG_GATEWAY_BIN);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    cmd += " <" + shell_quote(stdin_file) + " >stdout.txt 2>stderr.txt";
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(dir / "stdout.txt");
    r.err = read_text(dir / "stderr.txt");
    return r;
}

// ---------------------------------------------------------------------------------------------

ServeProcess::ServeProcess(const fs::path& config, const fs::path& dir) : stderr_file_(dir / "serve.stderr") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const std::string out = (dir / "serve.stdout").string();
    const std::string err = stderr_file_.string();
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string bin = GIOSG_GATEWAY_BIN, cmd = "serve", flag = "--config", file = config.string();
    char* argv[] = {bin.data(), cmd.data(), flag.data(), file.data(), nullptr};
    const int rc = posix_spawn(&pid_, bin.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
}

ServeProcess::~ServeProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

std::uint16_t ServeProcess::wait_for_port(std::chrono::milliseconds timeout) {
    const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        const std::string log = stderr_text();
        if (std::regex_search(log, match, listening)) return static_cast<std::uint16_t>(std::stoi(match[1]));
        if (exited()) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

void ServeProcess::signal(int signo) {
    if (pid_ > 0) kill(pid_, signo);
}

std::optional<int> ServeProcess::signal_and_wait(int signo, std::chrono::milliseconds timeout) {
    signal(signo);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (exited()) return exit_code_;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

std::string ServeProcess::stderr_text() const { return read_text(stderr_file_); }

bool ServeProcess::exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return true;
}

// ---------------------------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::size_t count_headers(const mock::ReceivedRequest& request, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(request.headers.begin(), request.headers.end(),
                                                  [&](const auto& h) { return iequals(h.first, name); }));
}

std::string upstream_authority(const mock::GiosgMock& mock) {
    const std::string origin = mock.origin();
    return origin.substr(origin.find("://") + 3);
}

std::pair<std::string, std::string> auth(std::string_view key) {
    return {"Authorization", "Token " + std::string(key)};
}

}  // namespace giosg::testing
