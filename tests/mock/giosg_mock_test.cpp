// Self-test of the fake giosg API: just enough to trust it as the gateway's upstream.
#include "giosg_mock.hpp"

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
    for (auto& [name, value] : headers) request.insert(name, value);
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

}  // namespace
