// Operating a running gateway (docs/reference.md §5): the real binary, reloaded by SIGHUP and
// POST /reload, with token files changed under it, probed on /readyz, and stopped by SIGTERM.
// The upstream is an in-process giosg-mock that accepts any token, so that the test sees which
// one the gateway sent.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/hex.hpp"
#include "common/sha256.hpp"
#include "admin/admin.hpp"
#include "admin/readiness.hpp"
#include "audit/writer.hpp"
#include "harness.hpp"
#include "test_pki.hpp"
#include "tls_client.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

const std::string kCatalogue = std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json";
constexpr const char* kTokenA = "upstream-token-A-51c0";
constexpr const char* kTokenB = "upstream-token-B-9e27";
constexpr const char* kBillingKey = "billing-key-operations-1";
constexpr const char* kBillingKey2 = "billing-key-operations-2";
constexpr const char* kNewcomerKey = "newcomer-key-operations-3";
const std::string kOwnedChats = std::string("/api/v5/orgs/") + kOrg + "/owned_chats";

std::string client_json(const std::string& name, const std::string& key) {
    return "\"" + name + "\": {\"key_sha256\": \"" + format_key_digest(sha256(key)) +
           "\", \"credential\": \"acme\", \"scopes\": [\"reports\"], \"organizations\": [\"" + kOrg + "\"]}";
}

std::string file_sha256(const fs::path& file) { return hex_encode(sha256(read_text(file))); }

std::vector<json::object> audit_objects(const fs::path& file) {
    std::vector<json::object> out;
    std::istringstream in(read_text(file));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line).as_object());
    return out;
}

std::vector<json::object> reload_records(const fs::path& audit) {
    std::vector<json::object> out;
    for (auto& r : audit_objects(audit))
        if (r.contains("kind") && r.at("kind") == "reload") out.push_back(std::move(r));
    return out;
}

class Operations : public ::testing::Test {
protected:
    void SetUp() override {
        mock::MockOptions mo;
        mo.catalogue_file = kCatalogue;
        mo.page_size = 25;
        mock_ = std::make_unique<mock::GiosgMock>(mo);  // no expected_token: any token is answered
        mock_->start();
        write_text(dir_ / "giosg.token", std::string(kTokenA) + "\n");
    }
    void TearDown() override {
        serve_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// gateway.json with `clients` (entries) and `extra` top-level members; an admin listener.
    fs::path write_config(const std::string& clients, const std::string& extra = {},
                          const std::string& token_file = "giosg.token") {
        const fs::path file = dir_ / "gateway.json";
        write_text(file, "{\n" + extra +
                             "  \"listen\": \"127.0.0.1:0\",\n"
                             "  \"admin_listen\": \"127.0.0.1:0\",\n"
                             "  \"workers\": 1,\n"
                             "  \"upstream\": {\"url\": \"" + mock_->origin() +
                             "\", \"connect_timeout_ms\": 1000, \"timeout_ms\": 5000},\n"
                             "  \"credentials\": {\"acme\": {\"token_file\": \"" + token_file + "\"}},\n"
                             "  \"clients\": {" + clients + "},\n"
                             "  \"policy\": {\"source\": \"file\", \"file\": \"" + kCatalogue + "\"},\n"
                             "  \"audit\": {\"path\": \"audit.jsonl\"}\n}\n");
        return file;
    }

    /// Starts serve on gateway.json; fills port_ and admin_port_.
    void start() {
        serve_ = std::make_unique<ServeProcess>(dir_ / "gateway.json", dir_);
        const std::regex gateway(R"(giosg-gateway \S+ listening on 127\.0\.0\.1:(\d+))");
        const std::regex admin(R"(admin listening on 127\.0\.0\.1:(\d+))");
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::string log = serve_->stderr_text();
            std::smatch g, a;
            if (std::regex_search(log, g, gateway) && std::regex_search(log, a, admin)) {
                port_ = static_cast<std::uint16_t>(std::stoi(g[1]));
                admin_port_ = static_cast<std::uint16_t>(std::stoi(a[1]));
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
        FAIL() << "serve did not start:\n" << serve_->stderr_text();
    }

    /// Waits until the log holds `count` lines containing `text`.
    bool wait_for_log(const std::string& text, std::size_t count = 1, std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::string log = serve_->stderr_text();
            std::size_t found = 0;
            for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++found;
            if (found >= count) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

    static std::string get_request(const std::string& key, const std::string& id = "op") {
        return "GET " + kOwnedChats + " HTTP/1.1\r\nHost: gw\r\nX-Request-Id: " + id +
               "\r\nAuthorization: Bearer " + key + "\r\n\r\n";
    }

    Response admin_request(std::string_view method, std::string_view target,
                           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return request(admin_port_, method, target, headers);
    }

    std::string metrics_text() { return admin_request("GET", "/metrics").body; }

    fs::path dir_ = make_temp_dir("giosg-gw-ops");
    std::unique_ptr<mock::GiosgMock> mock_;
    std::unique_ptr<ServeProcess> serve_;
    std::uint16_t port_ = 0;
    std::uint16_t admin_port_ = 0;
};

// --- reload --------------------------------------------------------------------------------------

TEST_F(Operations, SighupAddsAClientAndRevokesAKeyForTheNextRequestOnAKeptAliveConnection) {
    write_config(client_json("billing", kBillingKey));
    start();
    RawConnection kept(port_);
    kept.send(get_request(kBillingKey, "before-reload"));
    auto r = kept.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    kept.send(get_request(kNewcomerKey, "newcomer-before"));
    r = kept.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);

    // billing's key is replaced (the old one revoked); a new client is added.
    const auto config = write_config(client_json("billing", kBillingKey2) + ", " + client_json("newcomer", kNewcomerKey));
    serve_->signal(SIGHUP);
    ASSERT_TRUE(wait_for_log("reload (signal): config")) << serve_->stderr_text();

    kept.send(get_request(kBillingKey, "revoked-after"));
    r = kept.read_response();
    ASSERT_TRUE(r) << "the kept-alive connection was dropped by the reload";
    EXPECT_EQ(r->status, 401) << "the revoked key still works";
    kept.send(get_request(kNewcomerKey, "newcomer-after"));
    r = kept.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    kept.send(get_request(kBillingKey2, "new-key-after"));
    r = kept.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;

    const auto metrics = metrics_text();
    EXPECT_NE(metrics.find("giosg_gateway_reloads_total{result=\"ok\"} 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("giosg_gateway_requests_total{client=\"newcomer\",code=\"ok\",method=\"GET\"} 1"),
              std::string::npos)
        << metrics;

    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    const auto reloads = reload_records(dir_ / "audit.jsonl");
    ASSERT_EQ(reloads.size(), 1u) << read_text(dir_ / "audit.jsonl");
    EXPECT_EQ(reloads[0].at("result"), "ok");
    EXPECT_EQ(reloads[0].at("trigger"), "signal");
    EXPECT_EQ(reloads[0].at("config_sha256").as_string(), file_sha256(config));
    EXPECT_EQ(run_gateway(dir_, {"audit", "verify", "audit.jsonl"}, 30s).exit_code, 0);
}

TEST_F(Operations, InvalidReloadAnswers422AndTheOldConfigKeepsServing) {
    write_config(client_json("billing", kBillingKey));
    start();
    // A scope that does not exist (and all organisations).
    write_config("\"billing\": {\"key_sha256\": \"" + format_key_digest(sha256(kBillingKey)) +
                 "\", \"credential\": \"acme\", \"scopes\": [\"report\"], \"organizations\": [\"*\"]}");
    const auto r = admin_request("POST", "/reload");
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    const auto body = r.json().as_object();
    EXPECT_EQ(body.at("reloaded"), false);
    EXPECT_EQ(json::serialize(body.at("errors")), R"(["/clients/billing/scopes/0: unknown scope \"report\""])");
    EXPECT_TRUE(wait_for_log(R"(reload: /clients/billing/scopes/0: unknown scope "report")"));
    // A valid config whose token file is missing: everything it names is checked too.
    write_config(client_json("billing", kBillingKey), {}, "missing.token");
    const auto missing = admin_request("POST", "/reload");
    EXPECT_EQ(missing.status, 422) << missing.body;
    EXPECT_NE(missing.body.find("/credentials/acme/token_file: "), std::string::npos) << missing.body;

    // Still the old config: billing's key works, bound to its organisation.
    EXPECT_EQ(request(port_, "GET", kOwnedChats, {{"Authorization", std::string("Bearer ") + kBillingKey}}).status, 200);
    const auto metrics = metrics_text();
    EXPECT_NE(metrics.find("giosg_gateway_reloads_total{result=\"error\"} 2"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("giosg_gateway_reloads_total{result=\"ok\"} 0"), std::string::npos) << metrics;

    // Fixed, with a setting that needs a restart: reloaded, and the setting named.
    const auto config = write_config(client_json("billing", kBillingKey), "  \"drain_timeout_ms\": 2000,\n");
    std::string text = read_text(config);
    text.replace(text.find("\"workers\": 1"), 12, "\"workers\": 2");
    write_text(config, text);
    const auto ok = admin_request("POST", "/reload");
    EXPECT_EQ(ok.status, 200) << ok.body;
    const auto ok_body = ok.json().as_object();
    EXPECT_EQ(ok_body.at("reloaded"), true);
    EXPECT_EQ(ok_body.at("config_sha256").as_string(), file_sha256(config));
    ASSERT_TRUE(ok_body.contains("warnings")) << ok.body;
    EXPECT_NE(json::serialize(ok_body.at("warnings")).find("workers"), std::string::npos) << ok.body;
    EXPECT_TRUE(wait_for_log("workers changed but cannot change while serving")) << serve_->stderr_text();
    EXPECT_EQ(admin_request("GET", "/reload").status, 405);

    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    const auto reloads = reload_records(dir_ / "audit.jsonl");
    ASSERT_EQ(reloads.size(), 3u) << read_text(dir_ / "audit.jsonl");
    EXPECT_EQ(reloads[0].at("result"), "error");
    EXPECT_EQ(reloads[0].at("trigger"), "admin");
    EXPECT_EQ(reloads[1].at("result"), "error");
    EXPECT_EQ(reloads[2].at("result"), "ok");
    EXPECT_EQ(reloads[2].at("config_sha256").as_string(), file_sha256(config));
    EXPECT_EQ(serve_->stderr_text().find(kTokenA), std::string::npos) << "the token leaked into the log";
}

TEST_F(Operations, ReloadUnderLoadLosesNoRequestAndNoConnection) {
    write_config(client_json("billing", kBillingKey));
    start();
    constexpr int kConnections = 4;
    constexpr int kRequestsEach = 600;  // 2400 requests across the reloads
    std::atomic<int> failures{0};
    std::atomic<int> done{0};
    // jthread: an exception from the reload loop below (a gateway that died) still joins them.
    std::vector<std::jthread> clients;
    for (int c = 0; c < kConnections; ++c) {
        clients.emplace_back([&, c] {
            RawConnection conn(port_);
            for (int i = 0; i < kRequestsEach; ++i) {
                conn.send(get_request(kBillingKey, "load-" + std::to_string(c) + "-" + std::to_string(i)));
                const auto r = conn.read_response();
                if (!r || r->status != 200) ++failures;
                if (!r) return;  // the connection is gone
                ++done;
            }
        });
    }
    // Reloads as long as the load runs: one adds a client, the next one removes it again.
    std::size_t reloads = 0;
    int done_at_first_reload = -1;
    while (done.load() < kConnections * kRequestsEach && reloads < 100) {
        std::this_thread::sleep_for(20ms);
        const std::string clients_json =
            client_json("billing", kBillingKey) +
            (reloads % 2 == 0 ? ", " + client_json("newcomer", kNewcomerKey) : std::string());
        write_config(clients_json);
        if (done_at_first_reload < 0) done_at_first_reload = done.load();
        EXPECT_EQ(admin_request("POST", "/reload").status, 200);
        ++reloads;
    }
    for (auto& t : clients) t.join();
    EXPECT_GE(reloads, 2u);
    EXPECT_LT(done_at_first_reload, kConnections * kRequestsEach) << "the load ended before the first reload";
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(done.load(), kConnections * kRequestsEach);
    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    std::size_t requests = 0;
    for (const auto& r : audit_objects(dir_ / "audit.jsonl"))
        if (!r.contains("kind") && r.at("request_id").as_string().starts_with("load-")) ++requests;
    EXPECT_EQ(requests, static_cast<std::size_t>(kConnections * kRequestsEach)) << "not every request was audited";
    EXPECT_EQ(reload_records(dir_ / "audit.jsonl").size(), reloads);
}

// --- token files ---------------------------------------------------------------------------------

/// The Authorization the mock received with the last request for `id`.
std::string upstream_authorization(const mock::GiosgMock& m, const std::string& id) {
    std::string found;
    for (const auto& r : m.received())
        if (r.header("X-Request-Id").value_or("") == id) found = std::string(r.header("Authorization").value_or(""));
    return found;
}

/// Kubernetes' update of a mounted secret: the new content in a new folder, a new "..data"
/// symlink to it, renamed over the old one (one atomic step).
void swap_secret(const fs::path& secrets, const std::string& version, const std::string& content) {
    fs::create_directories(secrets / version);
    write_text(secrets / version / "token", content);
    fs::create_directory_symlink(version, secrets / "..data_tmp");
    fs::rename(secrets / "..data_tmp", secrets / "..data");
}

TEST_F(Operations, TokenFileSwappedByASymlinkRenameIsUsedWithinFiveSeconds) {
    const fs::path secrets = dir_ / "secrets";
    fs::create_directories(secrets);
    swap_secret(secrets, "..v1", std::string(kTokenA) + "\n");
    fs::create_symlink("..data/token", secrets / "token");
    write_config(client_json("billing", kBillingKey), {}, "secrets/token");
    start();
    const auto get = [&](const std::string& id) {
        return request(port_, "GET", kOwnedChats,
                       {{"Authorization", std::string("Bearer ") + kBillingKey}, {"X-Request-Id", id}});
    };
    ASSERT_EQ(get("token-before").status, 200);
    EXPECT_EQ(upstream_authorization(*mock_, "token-before"), std::string("Token ") + kTokenA);

    swap_secret(secrets, "..v2", std::string(kTokenB) + "\n");
    const auto swapped = std::chrono::steady_clock::now();
    std::string seen;
    int n = 0;
    while (std::chrono::steady_clock::now() - swapped < 6s) {
        const std::string id = "token-after-" + std::to_string(n++);
        ASSERT_EQ(get(id).status, 200);
        seen = upstream_authorization(*mock_, id);
        if (seen == std::string("Token ") + kTokenB) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(seen, std::string("Token ") + kTokenB);
    EXPECT_LT(std::chrono::steady_clock::now() - swapped, 5s) << "the new token was not used within 5 s";

    // A secret that turns empty keeps the last good token in use; logged and counted.
    swap_secret(secrets, "..v3", "");
    EXPECT_TRUE(wait_for_log("/credentials/acme/token_file: ", 1, 5s)) << serve_->stderr_text();
    ASSERT_EQ(get("token-empty").status, 200);
    EXPECT_EQ(upstream_authorization(*mock_, "token-empty"), std::string("Token ") + kTokenB);
    const auto metrics = metrics_text();
    EXPECT_NE(metrics.find("giosg_gateway_token_file_errors_total 1"), std::string::npos) << metrics;

    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    const auto reloads = reload_records(dir_ / "audit.jsonl");
    ASSERT_EQ(reloads.size(), 1u) << read_text(dir_ / "audit.jsonl");
    EXPECT_EQ(reloads[0].at("trigger"), "file");
    EXPECT_EQ(reloads[0].at("result"), "ok");
    const std::string log = serve_->stderr_text();
    EXPECT_EQ(log.find(kTokenA), std::string::npos) << "a token leaked into the log";
    EXPECT_EQ(log.find(kTokenB), std::string::npos) << "a token leaked into the log";
}

TEST_F(Operations, FifoConfigAndTokenFileAreReadOnceAndNeverBlockTheSignals) {
    // Secrets are sometimes handed over through FIFOs: each is read once at start (a writer gives
    // it once). The periodic token check must not open the FIFO again: that would hold the main
    // thread (reloads, the refresh) until a signal interrupts it.
    const std::string config = [&] {
        write_config(client_json("billing", kBillingKey), {}, "token.fifo");
        return read_text(dir_ / "gateway.json");
    }();
    fs::remove(dir_ / "gateway.json");
    ASSERT_EQ(::mkfifo((dir_ / "gateway.json").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((dir_ / "token.fifo").c_str(), 0600), 0);
    std::thread writer([&] {
        for (const auto& [file, text] : std::vector<std::pair<fs::path, std::string>>{
                 {dir_ / "gateway.json", config}, {dir_ / "token.fifo", std::string(kTokenA) + "\n"}}) {
            const int fd = ::open(file.c_str(), O_WRONLY);  // waits for the gateway to open it
            if (fd < 0) return;
            (void)::write(fd, text.data(), text.size());
            ::close(fd);
        }
    });
    start();
    writer.join();
    ASSERT_EQ(request(port_, "GET", kOwnedChats, {{"Authorization", std::string("Bearer ") + kBillingKey}}).status, 200);
    std::this_thread::sleep_for(2500ms);  // past the first periodic token check
    const auto signalled = std::chrono::steady_clock::now();
    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, 2s);
    // A check stuck opening the FIFO would have been cut by the signal (EINTR) and said so.
    EXPECT_EQ(serve_->stderr_text().find("token_file:"), std::string::npos) << serve_->stderr_text();
}

// Certificate renewal as cert-manager does it: new files under the same names, then a reload.
TEST_F(Operations, ReloadReReadsTheTlsCertificateKeyAndClientCasForNewConnections) {
    const TestCa server_ca(dir_, "server-ca");
    const TestCa old_clients_ca(dir_, "clients-2026");
    const TestCa new_clients_ca(dir_, "clients-2027");
    const auto server_cert = [&](const std::string& cn) {
        CertSpec spec;
        spec.common_name = cn;
        spec.san = {"DNS:localhost", "IP:127.0.0.1"};
        spec.server = true;
        return server_ca.issue(cn, spec);
    };
    const auto install = [&](const TestCert& cert) {
        fs::copy_file(cert.cert_file(), dir_ / "gw.pem", fs::copy_options::overwrite_existing);
        fs::copy_file(cert.key_file(), dir_ / "gw.key", fs::copy_options::overwrite_existing);
    };
    CertSpec billing_spec;
    billing_spec.common_name = "billing.svc";
    const TestCert billing_cert = new_clients_ca.issue("billing-svc", billing_spec);
    install(server_cert("gateway-2026"));
    fs::copy_file(old_clients_ca.ca_file(), dir_ / "client-ca.pem");
    write_config(client_json("billing", kBillingKey) +
                     ", \"certified\": {\"mtls\": {\"subject_cn\": \"billing.svc\"}, \"credential\": \"acme\", "
                     "\"scopes\": [\"reports\"], \"organizations\": [\"" + kOrg + "\"]}",
                 "  \"tls\": {\"cert_file\": \"gw.pem\", \"key_file\": \"gw.key\", \"client_ca_file\": \"client-ca.pem\"},\n");
    start();
    TlsClientOptions trusting;
    trusting.ca_file = server_ca.ca_file();
    TlsClientOptions certified = trusting;
    certified.cert_file = billing_cert.cert_file();
    certified.key_file = billing_cert.key_file();
    // The status of one request on `c` (0: no answer).
    const auto status_on = [&](TlsConnection& c, const std::string& id) {
        if (!c.send(get_request(kBillingKey, id))) return 0;
        const auto r = c.read_response();
        return r ? r->status : 0;
    };

    TlsConnection kept(port_, trusting);
    ASSERT_FALSE(kept.handshake());
    EXPECT_EQ(kept.peer_common_name(), "gateway-2026");
    EXPECT_EQ(status_on(kept, "tls-before"), 200);
    // Its CA is not trusted yet: the handshake ends (with TLS 1.3 as an alert after it).
    EXPECT_FALSE(tls_request(port_, certified, "GET", kOwnedChats));

    install(server_cert("gateway-2027"));
    fs::copy_file(new_clients_ca.ca_file(), dir_ / "client-ca.pem", fs::copy_options::overwrite_existing);
    const auto reloaded = admin_request("POST", "/reload");
    ASSERT_EQ(reloaded.status, 200) << reloaded.body;
    EXPECT_EQ(reloaded.body.find("tls"), std::string::npos) << "nothing of tls is kept: " << reloaded.body;

    TlsConnection renewed(port_, trusting);
    ASSERT_FALSE(renewed.handshake());
    EXPECT_EQ(renewed.peer_common_name(), "gateway-2027");
    EXPECT_EQ(status_on(renewed, "tls-after"), 200);
    const auto by_certificate = tls_request(port_, certified, "GET", kOwnedChats, {{"X-Request-Id", "tls-mtls"}});
    ASSERT_TRUE(by_certificate) << "the new client CA is not in force";
    EXPECT_EQ(by_certificate->status, 200) << by_certificate->body;
    // The connection made before the reload goes on with what it was handshaken with.
    EXPECT_EQ(status_on(kept, "tls-kept"), 200) << "the reload closed a kept-alive TLS connection";

    // A key that does not load changes nothing: 422 naming the setting, the renewed one still served.
    write_text(dir_ / "gw.key", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    const auto broken = admin_request("POST", "/reload");
    EXPECT_EQ(broken.status, 422);
    EXPECT_NE(broken.body.find("/tls/key_file"), std::string::npos) << broken.body;
    TlsConnection still(port_, trusting);
    ASSERT_FALSE(still.handshake());
    EXPECT_EQ(still.peer_common_name(), "gateway-2027");

    // A token rotated while the key file is broken is still applied (a rotated token re-reads no
    // TLS file), and the served certificate stays the one loaded by the last reload.
    write_text(dir_ / "giosg.token", std::string(kTokenB) + "\n");
    std::string seen;
    for (int n = 0; n < 60 && seen != std::string("Token ") + kTokenB; ++n) {
        std::this_thread::sleep_for(100ms);
        const std::string id = "tls-token-" + std::to_string(n);
        ASSERT_EQ(status_on(renewed, id), 200);
        seen = upstream_authorization(*mock_, id);
    }
    EXPECT_EQ(seen, std::string("Token ") + kTokenB) << "the rotated token was held back by the TLS files";
    TlsConnection after_rotation(port_, trusting);
    ASSERT_FALSE(after_rotation.handshake());
    EXPECT_EQ(after_rotation.peer_common_name(), "gateway-2027");

    // TLS switched off, its files removed: kept until a restart (a warning), the rest applies.
    fs::remove(dir_ / "gw.pem");
    fs::remove(dir_ / "gw.key");
    write_config(client_json("billing", kBillingKey));
    const auto off = admin_request("POST", "/reload");
    EXPECT_EQ(off.status, 200) << off.body;
    EXPECT_NE(off.body.find("tls (on or off)"), std::string::npos) << off.body;
    TlsConnection still_tls(port_, trusting);
    ASSERT_FALSE(still_tls.handshake());
    EXPECT_EQ(still_tls.peer_common_name(), "gateway-2027");

    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    bool mtls_recorded = false;
    for (const auto& r : audit_objects(dir_ / "audit.jsonl"))
        if (!r.contains("kind") && r.at("request_id") == "tls-mtls")
            mtls_recorded = r.at("client") == "certified" && r.at("identity") == "mtls";
    EXPECT_TRUE(mtls_recorded) << read_text(dir_ / "audit.jsonl");
}

// --- readiness and drain -------------------------------------------------------------------------

TEST_F(Operations, ReadyzTurns503DrainingAtSigtermAndTheDrainEndsWithTheLastRequest) {
    write_config(client_json("billing", kBillingKey));
    start();
    const auto ready = admin_request("GET", "/readyz");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.body, "{\"ready\": true}\n");
    EXPECT_EQ(ready.header("Content-Type").value_or(""), "application/json");

    // A request that takes 1.5 s at the upstream is in flight when SIGTERM comes; an idle
    // kept-alive connection is open beside it.
    RawConnection idle(port_);
    idle.send(get_request(kBillingKey, "idle-first"));
    ASSERT_TRUE(idle.read_response());
    std::optional<Response> slow;
    std::thread client([&] {
        RawConnection c(port_);
        c.send("GET " + kOwnedChats + " HTTP/1.1\r\nHost: gw\r\nX-Mock-Fault: delay=1500\r\nX-Request-Id: slow\r\n"
               "Authorization: Bearer " + kBillingKey + "\r\n\r\n");
        slow = c.read_response(10s);
    });
    std::this_thread::sleep_for(300ms);
    const auto signalled = std::chrono::steady_clock::now();
    serve_->signal(SIGTERM);
    ASSERT_TRUE(wait_for_log("received: draining")) << serve_->stderr_text();
    const auto draining = admin_request("GET", "/readyz");
    EXPECT_EQ(draining.status, 503);
    EXPECT_EQ(draining.body, "{\"ready\": false, \"reasons\": [\"draining\"]}\n");
    EXPECT_TRUE(idle.closed_by_peer(2s)) << "the idle kept-alive connection was not closed at once";

    const auto code = serve_->signal_and_wait(0, 9s);
    const auto took = std::chrono::steady_clock::now() - signalled;
    client.join();
    ASSERT_TRUE(slow);
    EXPECT_EQ(slow->status, 200) << "the request in flight was not let finish";
    ASSERT_EQ(code, std::optional<int>(0)) << serve_->stderr_text();
    // drain_timeout_ms is 10 s: the process must end once the slow request is done, not then.
    EXPECT_LT(took, 4s) << serve_->stderr_text();
    const std::string log = serve_->stderr_text();
    EXPECT_EQ(log.find("aborting"), std::string::npos) << log;
    EXPECT_NE(log.find("1 idle connections closed, 1 requests in flight waited for, 0 cut off"), std::string::npos)
        << log;
}

TEST_F(Operations, AnIdleGatewayExitsWithinASecondOfSigterm) {
    write_config(client_json("billing", kBillingKey));
    start();
    // One forwarded call leaves a pooled upstream connection behind.
    ASSERT_EQ(request(port_, "GET", kOwnedChats, {{"Authorization", std::string("Bearer ") + kBillingKey}}).status, 200);
    const auto signalled = std::chrono::steady_clock::now();
    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 9s), std::optional<int>(0)) << serve_->stderr_text();
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, 1s);
}

TEST(Readiness, ReadyzNamesAnAuditTrailThatCannotBeWrittenUnlessOnFailureAllows) {
    auto inject = std::make_shared<std::atomic<int>>(0);
    HarnessOptions o;
    o.policy_source = "file";
    o.inject_audit_errno = inject;
    Harness h(o);
    Readiness readiness;
    readiness.attach_audit(&h.audit());
    readiness.set_policy_loaded(true);
    readiness.set_credentials_loaded(true);
    AdminServer admin(HostPort{"127.0.0.1", 0}, h.metrics(),
                      AdminHooks{.not_ready = [&] { return readiness.reasons(); }, .reload = {}});
    admin.start();
    EXPECT_EQ(request(admin.port(), "GET", "/readyz").status, 200);

    inject->store(ENOSPC);
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    Response r;
    while (std::chrono::steady_clock::now() < deadline) {
        (void)request(h.port(), "GET", "/api/v5/users/me", {auth(kKeyFull)});  // a record that cannot be written
        r = request(admin.port(), "GET", "/readyz");
        if (r.status == 503) break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "{\"ready\": false, \"reasons\": [\"audit_unwritable\"]}\n");
    readiness.set_audit_required(false);  // audit.on_failure "allow"
    EXPECT_EQ(request(admin.port(), "GET", "/readyz").status, 200);
    readiness.set_audit_required(true);
    readiness.set_policy_loaded(false);
    EXPECT_EQ(request(admin.port(), "GET", "/readyz").body,
              "{\"ready\": false, \"reasons\": [\"policy_not_loaded\", \"audit_unwritable\"]}\n");

    inject->store(0);
    readiness.set_policy_loaded(true);
    const auto recovered = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < recovered && request(admin.port(), "GET", "/readyz").status != 200)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(request(admin.port(), "GET", "/readyz").status, 200);
    admin.stop();
}

// --- admin token, logs, check ---------------------------------------------------------------------

TEST_F(Operations, AdminTokenGuardsEveryAdminPathButHealthzAndReadyz) {
    constexpr const char* kAdminToken = "admin-token-7d2f9c0b1e";
    write_config(client_json("billing", kBillingKey),
                 "  \"admin_token_sha256\": \"" + format_key_digest(sha256(kAdminToken)) + "\",\n");
    start();
    EXPECT_EQ(admin_request("GET", "/healthz").status, 200);
    EXPECT_EQ(admin_request("GET", "/readyz").status, 200);
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/metrics"}, {"POST", "/reload"}, {"GET", "/nothing-here"}}) {
        SCOPED_TRACE(method + " " + path);
        const auto none = admin_request(method, path);
        EXPECT_EQ(none.status, 401);
        EXPECT_EQ(none.header("Content-Type").value_or(""), "application/json");
        EXPECT_EQ(none.json().at("code"), "not_authenticated") << none.body;
        EXPECT_TRUE(none.header("WWW-Authenticate").has_value());
        EXPECT_EQ(admin_request(method, path, {{"Authorization", "Bearer wrong-token"}}).status, 401);
        EXPECT_EQ(admin_request(method, path, {{"Authorization", std::string("Token ") + kAdminToken}}).status, 401)
            << "only the Bearer scheme";
    }
    const auto metrics = admin_request("GET", "/metrics", {{"Authorization", std::string("Bearer ") + kAdminToken}});
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("giosg_gateway_reloads_total"), std::string::npos);
    EXPECT_EQ(admin_request("POST", "/reload", {{"Authorization", std::string("bearer ") + kAdminToken}}).status, 200);

    // A reload that drops the token opens the admin paths again.
    write_config(client_json("billing", kBillingKey));
    EXPECT_EQ(admin_request("POST", "/reload", {{"Authorization", std::string("Bearer ") + kAdminToken}}).status, 200);
    EXPECT_EQ(admin_request("GET", "/metrics").status, 200);
    EXPECT_EQ(serve_->stderr_text().find(kAdminToken), std::string::npos) << "the admin token was logged";
}

TEST_F(Operations, JsonLogLinesAtTheConfiguredLevelChangedByReload) {
    write_config(client_json("billing", kBillingKey), "  \"log\": {\"format\": \"json\", \"level\": \"info\"},\n");
    start();
    serve_->signal(SIGHUP);
    ASSERT_TRUE(wait_for_log("reload (signal): config")) << serve_->stderr_text();
    std::size_t lines = 0;
    std::istringstream in(serve_->stderr_text());
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        ++lines;
        boost::system::error_code ec;
        const auto v = json::parse(line, ec);
        ASSERT_FALSE(ec) << "not a JSON line: " << line;
        const auto& o = v.as_object();
        EXPECT_TRUE(o.contains("ts") && o.contains("level") && o.contains("msg")) << line;
    }
    EXPECT_GE(lines, 3u);

    // level "warn" by reload: info lines stop, errors still come.
    write_config(client_json("billing", kBillingKey), "  \"log\": {\"format\": \"json\", \"level\": \"warn\"},\n");
    serve_->signal(SIGHUP);
    // Its own "in force" line is already below the new level: the metric says when it is done.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline &&
           metrics_text().find("giosg_gateway_reloads_total{result=\"ok\"} 2") == std::string::npos)
        std::this_thread::sleep_for(20ms);
    ASSERT_NE(metrics_text().find("giosg_gateway_reloads_total{result=\"ok\"} 2"), std::string::npos);
    const auto before = serve_->stderr_text().size();
    write_config("\"billing\": {}");
    serve_->signal(SIGHUP);
    ASSERT_TRUE(wait_for_log("reload failed")) << serve_->stderr_text();
    const std::string after = serve_->stderr_text().substr(before);
    EXPECT_EQ(after.find("\"level\":\"info\""), std::string::npos) << after;
    EXPECT_NE(after.find("\"level\":\"error\""), std::string::npos) << after;
}

TEST_F(Operations, ProbeAsksTheAdminListenerForHealthAndReadiness) {
    write_config(client_json("billing", kBillingKey),
                 "  \"admin_token_sha256\": \"" + format_key_digest(sha256("probe-admin-token")) + "\",\n");
    // The config names port 0: the probe reads the port from a copy that names the bound one.
    start();
    std::string text = read_text(dir_ / "gateway.json");
    text.replace(text.find("\"admin_listen\": \"127.0.0.1:0\""), 29,
                 "\"admin_listen\": \"127.0.0.1:" + std::to_string(admin_port_) + "\"");
    write_text(dir_ / "probe.json", text);
    const auto live = run_gateway(dir_, {"probe", "live", "--config", "probe.json"}, 30s);
    EXPECT_EQ(live.exit_code, 0) << live.err;
    const auto ready = run_gateway(dir_, {"probe", "ready", "--config", "probe.json"}, 30s);
    EXPECT_EQ(ready.exit_code, 0) << ready.err;
    EXPECT_EQ(ready.out, "{\"ready\": true}\n");
    EXPECT_EQ(run_gateway(dir_, {"probe", "sideways", "--config", "probe.json"}, 30s).exit_code, 2);
    ASSERT_EQ(serve_->signal_and_wait(SIGTERM, 5s), std::optional<int>(0)) << serve_->stderr_text();
    const auto gone = run_gateway(dir_, {"probe", "live", "--config", "probe.json"}, 30s);
    EXPECT_EQ(gone.exit_code, 1);
    EXPECT_NE(gone.err.find("cannot connect"), std::string::npos) << gone.err;
    // No admin listener to ask.
    text.replace(text.find("\"admin_listen\""), 14, "\"public_url\"");
    text.replace(text.find("127.0.0.1:" + std::to_string(admin_port_)), 10 + std::to_string(admin_port_).size(),
                 "https://gw.example");
    write_text(dir_ / "no-admin.json", text);
    const auto none = run_gateway(dir_, {"probe", "ready", "--config", "no-admin.json"}, 30s);
    EXPECT_EQ(none.exit_code, 1) << none.err;
    EXPECT_NE(none.err.find("/admin_listen is not set"), std::string::npos) << none.err;
}

TEST(CheckUpstreamTls, ACertificateThatFailsVerificationIsAnErrorNotAWarning) {
    const fs::path dir = make_temp_dir("giosg-gw-check-tls");
    make_test_certificates(dir);
    mock::MockOptions mo;
    mo.catalogue_file = kCatalogue;
    mo.tls_cert_file = dir / "server.pem";
    mo.tls_key_file = dir / "server.key";
    mock::GiosgMock m(mo);
    m.start();
    write_text(dir / "giosg.token", std::string(kTokenA) + "\n");
    const auto config = [&](const std::string& ca) {
        write_text(dir / "gateway.json",
                   "{\"listen\": \"127.0.0.1:0\", \"upstream\": {\"url\": \"" + m.origin() + "\"" + ca +
                       ", \"connect_timeout_ms\": 2000, \"timeout_ms\": 3000},"
                       " \"credentials\": {\"acme\": {\"token_file\": \"giosg.token\"}},"
                       " \"clients\": {" + client_json("billing", kBillingKey) + "},"
                       " \"policy\": {\"source\": \"upstream\", \"file\": \"" + kCatalogue +
                       "\", \"credential\": \"acme\", \"refresh_s\": 0}, \"audit\": {\"path\": \"audit.jsonl\"}}");
        return run_gateway(dir, {"check", "--config", "gateway.json"}, 30s);
    };
    // The mock's certificate is signed by a CA the system store does not know.
    const auto untrusted = config("");
    EXPECT_EQ(untrusted.exit_code, 1) << untrusted.out << untrusted.err;
    EXPECT_NE(untrusted.err.find("/upstream/url: the upstream's TLS certificate failed verification"), std::string::npos)
        << untrusted.err;
    const auto trusted = config(", \"ca_file\": \"ca.pem\"");
    EXPECT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
    m.stop();
    // Unreachable with a usable snapshot: a warning only.
    const auto unreachable = config(", \"ca_file\": \"ca.pem\"");
    EXPECT_EQ(unreachable.exit_code, 0) << unreachable.err;
    EXPECT_NE(unreachable.err.find("warning: live catalogue fetch failed"), std::string::npos) << unreachable.err;
    std::error_code ec;
    fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace giosg::testing
