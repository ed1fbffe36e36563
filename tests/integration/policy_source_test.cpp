// Where the policy table comes from (docs/reference.md §2): the live catalogue, fetched page by page
// with the policy credential; the snapshot file when that fails; never a page from another
// origin (the token would go there); a broken snapshot is an error naming the file.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "common/sha256.hpp"
#include "config/config.hpp"
#include "harness.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::testing {
namespace {

namespace fs = std::filesystem;
using boost::asio::ip::tcp;

const std::string kCatalogue = std::string(GIOSG_SOURCE_DIR) + "/policies/giosg-v5-endpoints.json";
constexpr std::size_t kCatalogueEntries = 106;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::unique_ptr<mock::GiosgMock> start_mock(std::size_t page_size, std::optional<std::string> next_origin = {}) {
    mock::MockOptions mo;
    mo.catalogue_file = kCatalogue;
    mo.page_size = page_size;
    mo.expected_token = kUpstreamToken;
    mo.next_origin_override = std::move(next_origin);
    auto m = std::make_unique<mock::GiosgMock>(mo);
    m->start();
    return m;
}

UpstreamConfig upstream_config(const std::string& origin) {
    std::string error;
    auto url = parse_upstream_url(origin, error);
    if (!url) throw std::runtime_error("bad upstream url " + origin + ": " + error);
    UpstreamConfig config;
    config.url = *url;
    config.connect_timeout = std::chrono::milliseconds(300);
    config.timeout = std::chrono::milliseconds(1000);
    return config;
}

std::vector<mock::ReceivedRequest> endpoint_requests(const mock::GiosgMock& m) {
    std::vector<mock::ReceivedRequest> pages;
    for (auto& r : m.received())
        if (r.method == "GET" && r.target.rfind("/api/v5/endpoints", 0) == 0) pages.push_back(r);
    return pages;
}

// A config loaded the way `serve` loads it, written into `dir`.
Config make_config(const fs::path& dir, const std::string& upstream_url, const std::string& policy_json) {
    {
        std::ofstream(dir / "upstream.token") << kUpstreamToken << "\n";
    }
    const std::string text = std::string(R"({
  "listen": "127.0.0.1:0",
  "upstream": {"url": ")") + upstream_url + R"(", "connect_timeout_ms": 300, "timeout_ms": 1000},
  "credentials": {"giosg": {"token_file": "upstream.token"}},
  "clients": {"full": {"key_sha256": ")" + format_key_digest(sha256(kKeyFull)) +
                             R"(", "credential": "giosg", "scopes": ["reports"], "organizations": ["*"]}},
  "policy": )" + policy_json + R"(,
  "audit": {"path": "audit.jsonl"},
})";
    auto parsed = parse_config(text, dir);
    if (!parsed.config) throw std::runtime_error("test config invalid: " + parsed.errors.front().to_string());
    return std::move(*parsed.config);
}

struct TempDir {
    fs::path path = make_temp_dir("giosg-gw-policy");
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

TEST(PolicySource, LiveCatalogueIsFetchedAcrossAllPages) {
    HarnessOptions o;
    o.page_size = 10;
    Harness h(o);
    EXPECT_TRUE(contains(h.policy().origin, "upstream")) << h.policy().origin;
    EXPECT_TRUE(h.policy().warnings.empty());
    ASSERT_TRUE(h.policy().table);
    EXPECT_EQ(h.policy().table->size(), kCatalogueEntries);
    EXPECT_EQ(h.policy().entries.size(), kCatalogueEntries);

    const auto pages = endpoint_requests(h.mock());
    EXPECT_GE(pages.size(), 3u);
    EXPECT_EQ(pages.size(), (kCatalogueEntries + 9) / 10);
    for (const auto& page : pages)
        EXPECT_EQ(page.header("Authorization").value_or(""), std::string("Token ") + kUpstreamToken) << page.target;

    // The fetched table is the one requests are decided by.
    const auto r = request(h.port(), "GET", std::string("/api/v5/orgs/") + kOrg + "/owned_chats", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST(PolicySource, FailedLiveFetchFallsBackToSnapshotWithWarning) {
    HarnessOptions o;
    o.mock_endpoints_failure = true;
    Harness h(o);
    EXPECT_EQ(h.policy().origin.rfind("file", 0), 0u) << h.policy().origin;
    ASSERT_FALSE(h.policy().warnings.empty());
    EXPECT_TRUE(contains(h.policy().warnings.front(), "live catalogue fetch failed")) << h.policy().warnings.front();
    ASSERT_TRUE(h.policy().table);
    EXPECT_EQ(h.policy().table->size(), kCatalogueEntries);
    EXPECT_FALSE(endpoint_requests(h.mock()).empty()) << "the live fetch was not even tried";

    const auto r = request(h.port(), "GET", std::string("/api/v5/orgs/") + kOrg + "/owned_chats", {auth(kKeyFull)});
    EXPECT_EQ(r.status, 200) << r.body;
}

// An upstream that answers the catalogue request with a head and then a byte now and then
// (each within the read timeout) must not hold the fetch, and so start-up, for long.
TEST(PolicySource, TricklingCatalogueFailsWithinTheTimeout) {
    boost::asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    std::atomic<bool> stop{false};
    std::thread upstream([&] {
        tcp::socket socket(io);
        boost::system::error_code ec;
        acceptor.accept(socket, ec);
        if (ec) return;
        std::array<char, 4096> request{};
        socket.read_some(boost::asio::buffer(request), ec);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
        boost::asio::write(socket, boost::asio::buffer(head), ec);
        for (int i = 0; i < 400 && !stop && !ec; ++i) {  // 40 s at most
            boost::asio::write(socket, boost::asio::buffer(" ", 1), ec);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    UpstreamConfig config = upstream_config("http://127.0.0.1:" + std::to_string(port));  // timeout 1 s
    auto fetch = std::async(std::launch::async, [&] { return fetch_catalogue_blocking(config, Secret(kUpstreamToken)); });
    const bool finished = fetch.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    stop = true;
    upstream.join();
    ASSERT_TRUE(finished) << "the fetch was still reading a trickling page after 10 s";
    const auto result = fetch.get();
    EXPECT_FALSE(result.ok());
    EXPECT_TRUE(contains(result.error, "within upstream.timeout_ms")) << result.error;
}

TEST(PolicySource, FailedLiveFetchWithoutSnapshotIsAnError) {
    auto m = start_mock(25);
    m->set_endpoints_failure(true);
    TempDir dir;
    const Config config = make_config(dir.path, m->origin(), R"({"source": "upstream", "credential": "giosg"})");
    const auto credentials = load_credentials(config);
    ASSERT_TRUE(credentials.errors.empty());
    const auto load = load_policy(config, credentials.credentials);
    EXPECT_FALSE(load.table);
    ASSERT_FALSE(load.errors.empty());
    EXPECT_EQ(load.errors.front().path, "/policy/source");
    EXPECT_TRUE(contains(load.errors.front().message, "500")) << load.errors.front().to_string();
}

TEST(PolicySource, NextLinkToAnotherPortIsRefused) {
    // The decoy stands where the foreign `next` link points; the token must never reach it.
    auto decoy = start_mock(25);
    auto m = start_mock(10, decoy->origin());
    const auto fetched = fetch_catalogue_blocking(upstream_config(m->origin()), Secret(kUpstreamToken));
    EXPECT_FALSE(fetched.ok());
    EXPECT_TRUE(contains(fetched.error, "another origin")) << fetched.error;
    EXPECT_TRUE(fetched.entries.empty());
    EXPECT_EQ(endpoint_requests(*m).size(), 1u);
    EXPECT_EQ(decoy->connections_accepted(), 0u);
    EXPECT_EQ(decoy->request_count(), 0u);
}

TEST(PolicySource, NextLinkToUnreachableOriginIsRefusedWithoutConnecting) {
    auto m = start_mock(10, std::string("http://127.0.0.1:1"));
    const auto started = std::chrono::steady_clock::now();
    const auto fetched = fetch_catalogue_blocking(upstream_config(m->origin()), Secret(kUpstreamToken));
    EXPECT_FALSE(fetched.ok());
    EXPECT_TRUE(contains(fetched.error, "another origin")) << fetched.error;
    EXPECT_EQ(endpoint_requests(*m).size(), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(PolicySource, NextLinkWithAnotherSchemeIsRefused) {
    // Same host and port as the upstream but https: the mock must know its own port before it
    // starts, so take a free one from a first mock and restart on it.
    mock::MockOptions mo;
    mo.catalogue_file = kCatalogue;
    mo.page_size = 10;
    mo.expected_token = kUpstreamToken;
    std::uint16_t port = 0;
    {
        mock::GiosgMock probe(mo);
        probe.start();
        port = probe.port();
    }
    mo.port = port;
    mo.next_origin_override = "https://127.0.0.1:" + std::to_string(port);
    mock::GiosgMock m(mo);
    m.start();
    const auto fetched = fetch_catalogue_blocking(upstream_config(m.origin()), Secret(kUpstreamToken));
    EXPECT_FALSE(fetched.ok());
    EXPECT_TRUE(contains(fetched.error, "another origin")) << fetched.error;
    EXPECT_EQ(endpoint_requests(m).size(), 1u);
    EXPECT_EQ(m.connections_accepted(), 1u);
}

TEST(PolicySource, InvalidSnapshotFileIsAnErrorNamingTheFile) {
    TempDir dir;
    const fs::path snapshot = dir.path / "broken-catalogue.json";
    std::ofstream(snapshot) << R"({"next": null, "results": [{"url_pattern": 42}]})";
    const auto file = read_catalogue_file(snapshot);
    ASSERT_FALSE(file.errors.empty());
    EXPECT_TRUE(contains(file.errors.front().message, snapshot.string())) << file.errors.front().to_string();

    const Config config =
        make_config(dir.path, "http://127.0.0.1:1", R"({"source": "file", "file": "broken-catalogue.json"})");
    const auto load = load_policy(config, load_credentials(config).credentials);
    EXPECT_FALSE(load.table);
    ASSERT_FALSE(load.errors.empty());
    EXPECT_TRUE(contains(load.errors.front().to_string(), snapshot.string())) << load.errors.front().to_string();
}

TEST(PolicySource, UnparsableSnapshotFileIsAnErrorNamingTheFile) {
    TempDir dir;
    const fs::path snapshot = dir.path / "not-json.json";
    std::ofstream(snapshot) << "this is not a catalogue";
    const Config config = make_config(dir.path, "http://127.0.0.1:1", R"({"source": "file", "file": "not-json.json"})");
    const auto load = load_policy(config, load_credentials(config).credentials);
    EXPECT_FALSE(load.table);
    ASSERT_FALSE(load.errors.empty());
    EXPECT_TRUE(contains(load.errors.front().to_string(), snapshot.string())) << load.errors.front().to_string();
}

TEST(PolicySource, MissingSnapshotFileIsAnErrorNamingTheFile) {
    TempDir dir;
    const Config config = make_config(dir.path, "http://127.0.0.1:1", R"({"source": "file", "file": "absent.json"})");
    const auto load = load_policy(config, load_credentials(config).credentials);
    EXPECT_FALSE(load.table);
    ASSERT_FALSE(load.errors.empty());
    EXPECT_TRUE(contains(load.errors.front().to_string(), (dir.path / "absent.json").string()))
        << load.errors.front().to_string();
}

}  // namespace
}  // namespace giosg::testing
