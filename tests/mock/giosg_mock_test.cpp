// Self-test of the fake giosg API: just enough to trust it as the gateway's upstream.
#include "giosg_mock.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <zlib.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using boost::system::error_code;
using giosg::mock::GiosgMock;
using giosg::mock::MockOptions;
using namespace std::chrono_literals;

constexpr const char* kToken = "mock-test-token";
constexpr std::size_t kPageSize = 10;

std::filesystem::path catalogue_path() { return GIOSG_MOCK_CATALOGUE; }

json::array catalogue_results(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return json::parse(text).at("results").as_array();
}

// A tiny client: asynchronous underneath only so that every exchange has a deadline and a
// misbehaving mock fails the test instead of hanging it.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port) : host_("127.0.0.1:" + std::to_string(port)) {
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  http::response<http::string_body> exchange(http::verb method, std::string target,
                                             std::optional<std::string> token = kToken,
                                             std::vector<std::pair<std::string, std::string>> headers = {},
                                             error_code* failure = nullptr) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, host_);
    if (token) request.set(http::field::authorization, "Token " + *token);
    for (auto& [name, value] : headers) {
      // A test's own Host replaces the default one rather than adding a second.
      if (beast::iequals(name, "Host")) request.set(http::field::host, value);
      else request.insert(name, value);
    }
    request.prepare_payload();

    http::response<http::string_body> response;
    error_code ec;
    stream_.expires_after(10s);
    http::async_write(stream_, request, [&](error_code write_ec, std::size_t) {
      if (write_ec) {
        ec = write_ec;
        return;
      }
      http::async_read(stream_, buffer_, response, [&](error_code read_ec, std::size_t) { ec = read_ec; });
    });
    io_.restart();
    io_.run();
    if (failure != nullptr) {
      *failure = ec;
    } else {
      EXPECT_FALSE(ec) << ec.message();
    }
    return response;
  }

 private:
  std::string host_;
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

class GiosgMockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalogue_ = catalogue_path();
    if (catalogue_.empty()) GTEST_SKIP() << "no catalogue file to serve";
    MockOptions options;
    options.catalogue_file = catalogue_;
    options.page_size = kPageSize;
    options.expected_token = kToken;
    mock_ = std::make_unique<GiosgMock>(options);
    mock_->start();
  }

  json::value get_json(TestClient& client, const std::string& target) {
    auto response = client.exchange(http::verb::get, target);
    EXPECT_EQ(response.result_int(), 200u) << target << ": " << response.body();
    return json::parse(response.body());
  }

  std::filesystem::path catalogue_;
  std::unique_ptr<GiosgMock> mock_;
};

TEST_F(GiosgMockTest, RequestWithoutTokenGets401AndIsStillRecorded) {
  TestClient client(mock_->port());
  auto missing = client.exchange(http::verb::get, "/api/v5/languages", std::nullopt);
  EXPECT_EQ(missing.result_int(), 401u);
  EXPECT_EQ(missing[http::field::www_authenticate], "Token");
  EXPECT_EQ(missing[http::field::content_type], "application/json");
  EXPECT_EQ(json::parse(missing.body()).at("detail"), "Authentication credentials were not provided.");

  auto wrong = client.exchange(http::verb::get, "/api/v5/languages", std::string("other"));
  EXPECT_EQ(wrong.result_int(), 401u);
  EXPECT_EQ(json::parse(wrong.body()).at("detail"), "Invalid token.");
  EXPECT_EQ(mock_->request_count(), 2u);
}

TEST_F(GiosgMockTest, EndpointsArePagedWithAbsoluteNextLinks) {
  const auto expected = catalogue_results(catalogue_);
  ASSERT_GT(expected.size(), kPageSize) << "the test needs more than one page";

  TestClient client(mock_->port());
  json::array collected;
  std::string target = "/api/v5/endpoints";
  std::size_t pages = 0;
  while (true) {
    auto page = get_json(client, target);
    ++pages;
    for (const auto& entry : page.at("results").as_array()) collected.push_back(entry);
    EXPECT_EQ(page.at("previous").is_null(), pages == 1);
    if (page.at("next").is_null()) break;
    std::string next(page.at("next").as_string());
    const std::string prefix = "http://127.0.0.1:" + std::to_string(mock_->port());
    ASSERT_EQ(next.rfind(prefix, 0), 0u) << next;
    target = next.substr(prefix.size());
    ASSERT_LE(pages, expected.size()) << "pagination does not end";
  }
  EXPECT_EQ(pages, (expected.size() + kPageSize - 1) / kPageSize);
  EXPECT_EQ(collected, expected);
}

TEST_F(GiosgMockTest, CataloguedPathsAnswer200WithJson) {
  TestClient client(mock_->port());
  auto list = get_json(client, "/api/v5/languages");
  EXPECT_TRUE(list.at("next").is_null());
  EXPECT_EQ(list.at("results").as_array().size(), 2u);

  // A path ending in a placeholder names one object, whose id is the segment as sent.
  for (const auto& entry : catalogue_results(catalogue_)) {
    std::string pattern(entry.at("url_pattern").as_string());
    bool has_get = false;
    for (const auto& method : entry.at("methods").as_array()) has_get |= method.at("name") == "GET";
    if (!has_get || pattern.back() != '>') continue;
    std::string path;
    for (std::size_t i = 0; i < pattern.size();) {
      if (pattern[i] == '<') {
        path += "seg" + std::to_string(i);
        i = pattern.find('>', i) + 1;
      } else {
        path += pattern[i++];
      }
    }
    auto object = get_json(client, path);
    EXPECT_EQ(object.at("id"), json::value(path.substr(path.rfind('/') + 1))) << path;
    break;
  }
}

TEST_F(GiosgMockTest, UnknownPathGets404) {
  TestClient client(mock_->port());
  auto response = client.exchange(http::verb::get, "/api/v5/no-such-thing");
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(json::parse(response.body()).at("detail"), "Not found.");
}

TEST_F(GiosgMockTest, MethodNotInCatalogueGets405WithAllow) {
  std::string allow;
  for (const auto& entry : catalogue_results(catalogue_)) {
    if (entry.at("url_pattern") != "/api/v5/languages") continue;
    for (const auto& method : entry.at("methods").as_array()) {
      allow += (allow.empty() ? "" : ", ") + std::string(method.at("name").as_string());
    }
  }
  ASSERT_EQ(allow.find("DELETE"), std::string::npos) << "the test assumes languages cannot be deleted";

  TestClient client(mock_->port());
  auto response = client.exchange(http::verb::delete_, "/api/v5/languages");
  EXPECT_EQ(response.result_int(), 405u);
  EXPECT_EQ(response[http::field::allow], allow);
  EXPECT_EQ(json::parse(response.body()).at("detail"), "Method \"DELETE\" not allowed.");
}

TEST_F(GiosgMockTest, EchoReturnsTheRequestAsReceived) {
  TestClient client(mock_->port());
  auto response = client.exchange(http::verb::post, "/not/in/catalogue?a=1", kToken,
                                   {{"X-Mock-Echo", "1"}, {"x-custom", "Value"}});
  ASSERT_EQ(response.result_int(), 200u);
  auto echo = json::parse(response.body());
  EXPECT_EQ(echo.at("method"), "POST");
  EXPECT_EQ(echo.at("target"), "/not/in/catalogue?a=1");
  const auto& headers = echo.at("headers").as_array();
  ASSERT_GE(headers.size(), 4u);
  EXPECT_EQ(headers[0], (json::array{"Host", "127.0.0.1:" + std::to_string(mock_->port())}));
  EXPECT_EQ(headers[3], (json::array{"x-custom", "Value"}));
}

TEST_F(GiosgMockTest, FaultCloseClosesWithoutAnswering) {
  TestClient client(mock_->port());
  error_code failure;
  client.exchange(http::verb::get, "/api/v5/languages", kToken, {{"X-Mock-Fault", "close"}}, &failure);
  EXPECT_EQ(failure, http::error::end_of_stream);
  EXPECT_EQ(mock_->request_count(), 1u);
}

TEST_F(GiosgMockTest, FaultStatusAnswersThatStatus) {
  TestClient client(mock_->port());
  auto response = client.exchange(http::verb::get, "/api/v5/languages", kToken, {{"X-Mock-Fault", "status=500"}});
  EXPECT_EQ(response.result_int(), 500u);
  EXPECT_EQ(json::parse(response.body()).at("detail"), "mock fault");

  mock_->set_default_fault("status=503");
  EXPECT_EQ(client.exchange(http::verb::get, "/api/v5/languages").result_int(), 503u);
  EXPECT_EQ(client.exchange(http::verb::get, "/api/v5/languages", kToken, {{"X-Mock-Fault", "none"}}).result_int(),
            200u);
}

TEST_F(GiosgMockTest, GeneratedBodiesHaveExactlyTheAskedBytes) {
  TestClient client(mock_->port());
  for (const char* fault : {"body-bytes=200000", "chunked-body-bytes=200000"}) {
    auto response = client.exchange(http::verb::get, "/api/v5/languages", kToken, {{"X-Mock-Fault", fault}});
    const std::string& body = response.body();
    ASSERT_EQ(body.size(), 200000u) << fault;
    std::size_t first_wrong = 0;
    while (first_wrong < body.size() && body[first_wrong] == static_cast<char>('a' + first_wrong % 26)) {
      ++first_wrong;
    }
    EXPECT_EQ(first_wrong, body.size()) << fault;
  }
}

TEST_F(GiosgMockTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestClient client(mock_->port());
  EXPECT_EQ(client.exchange(http::verb::get, "/api/v5/languages").result_int(), 200u);
  EXPECT_EQ(client.exchange(http::verb::get, "/api/v5/endpoints").result_int(), 200u);
  EXPECT_EQ(mock_->connections_accepted(), 1u);
  EXPECT_EQ(mock_->request_count(), 2u);
}

// Inflates a gzip body with zlib directly (the test trusts neither the mock nor the gateway).
std::string gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buffer[4096];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip stream";
  inflateEnd(&z);
  return out;
}

class PagedListTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kPages = 4;
  static constexpr std::size_t kPerPage = 3;
  static constexpr const char* kPath = "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams";

  void SetUp() override {
    if (catalogue_path().empty()) GTEST_SKIP() << "no catalogue file to serve";
    MockOptions options;
    options.catalogue_file = catalogue_path();
    options.expected_token = kToken;
    options.list_pages = kPages;
    options.list_page_size = kPerPage;
    mock_ = std::make_unique<GiosgMock>(options);
    mock_->start();
    base_ = mock_->origin() + kPath;
  }

  std::unique_ptr<GiosgMock> mock_;
  std::string base_;  // the absolute URL of page 1
};

TEST_F(PagedListTest, PagesLinkAbsolutelyToTheMocksOwnOrigin) {
  ASSERT_EQ(mock_->origin(), "http://127.0.0.1:" + std::to_string(mock_->port()));
  TestClient client(mock_->port());
  std::vector<std::string> ids;
  std::string target = kPath;
  for (std::size_t page = 1; page <= kPages; ++page) {
    // The Host a proxy sends must not change the links: they are the upstream's own.
    auto response = client.exchange(http::verb::get, target, kToken, {{"Host", "gateway.example:8080"}});
    ASSERT_EQ(response.result_int(), 200u) << target << ": " << response.body();
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_EQ(response[http::field::content_encoding], "");
    EXPECT_EQ(response[http::field::etag], "\"teams-page-" + std::to_string(page) + "\"");
    auto body = json::parse(response.body()).as_object();
    ASSERT_EQ(body.size(), 3u);
    EXPECT_EQ(body.begin()->key(), "next");  // giosg's key order: next, previous, results

    if (page == 1) EXPECT_TRUE(body.at("previous").is_null());
    else if (page == 2) EXPECT_EQ(body.at("previous"), json::value(base_));  // DRF drops page=1
    else EXPECT_EQ(body.at("previous"), json::value(base_ + "?page=" + std::to_string(page - 1)));

    for (const auto& team : body.at("results").as_array()) ids.emplace_back(team.at("id").as_string());
    EXPECT_EQ(body.at("results").as_array().size(), kPerPage);

    if (page == kPages) {
      EXPECT_TRUE(body.at("next").is_null());
      break;
    }
    const std::string next(body.at("next").as_string());
    ASSERT_EQ(next, base_ + "?page=" + std::to_string(page + 1));
    target = next.substr(mock_->origin().size());
  }
  EXPECT_EQ(ids.size(), kPages * kPerPage);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "ids repeat across pages";

  // Every request was recorded with the Authorization it carried.
  auto received = mock_->received();
  ASSERT_EQ(received.size(), kPages);
  for (const auto& request : received) EXPECT_EQ(request.header("Authorization"), std::string("Token ") + kToken);
}

TEST_F(PagedListTest, GzipWhenAskedForWithTheSameDocument) {
  TestClient client(mock_->port());
  const std::string target = std::string(kPath) + "?page=2";
  auto plain = client.exchange(http::verb::get, target);
  auto gzipped = client.exchange(http::verb::get, target, kToken, {{"Accept-Encoding", "br, GZIP;q=0.5"}});
  ASSERT_EQ(gzipped.result_int(), 200u);
  EXPECT_EQ(gzipped[http::field::content_encoding], "gzip");
  EXPECT_EQ(gzipped[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(gzipped[http::field::etag], "\"teams-page-2-gzip\"");
  ASSERT_GE(gzipped.body().size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gzipped.body()[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gzipped.body()[1]), 0x8b);
  EXPECT_EQ(gzipped[http::field::content_length], std::to_string(gzipped.body().size()));
  EXPECT_EQ(gunzip(gzipped.body()), plain.body());
  EXPECT_NE(json::parse(plain.body()).at("next"), json::value(nullptr));

  auto refused = client.exchange(http::verb::get, target, kToken, {{"Accept-Encoding", "gzip;q=0, identity"}});
  EXPECT_EQ(refused[http::field::content_encoding], "");
  EXPECT_EQ(refused.body(), plain.body());
}

TEST_F(PagedListTest, PageOutOfRangeIs404) {
  TestClient client(mock_->port());
  for (std::string page : {"0", "5", "x", ""}) {
    auto response = client.exchange(http::verb::get, std::string(kPath) + "?page=" + page);
    EXPECT_EQ(response.result_int(), 404u) << page;
  }
}

TEST_F(PagedListTest, CreateAnswers201WithAnAbsoluteLocation) {
  TestClient client(mock_->port());
  auto response = client.exchange(http::verb::post, kPath, kToken, {{"Content-Type", "application/json"}});
  ASSERT_EQ(response.result_int(), 201u) << response.body();
  const std::string id(json::parse(response.body()).at("id").as_string());
  EXPECT_EQ(response[http::field::location], base_ + "/" + id);

  // Other resources' 201s carry no Location, as before.
  auto other = client.exchange(http::verb::post, "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/rooms");
  EXPECT_EQ(other.result_int(), 201u);
  EXPECT_EQ(other[http::field::location], "");
}

}  // namespace
