#include "giosg_mock.hpp"

#include <algorithm>
#include <cctype>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <zlib.h>

namespace giosg::mock {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

constexpr auto kIdleTimeout = 60s;       // a quiet connection is dropped after this
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kTlsShutdownTimeout = 2s;
constexpr std::uint32_t kHeaderLimit = 1024 * 1024;
constexpr std::uint64_t kBodyLimit = 64ull * 1024 * 1024;
constexpr std::size_t kWritePiece = 64 * 1024;
constexpr std::string_view kEndpointsPath = "/api/v5/endpoints";
// The paged list (see the header): a catalogued GET list endpoint that any scope may read.
constexpr std::string_view kPagedListPattern = "/api/v5/orgs/<organization_id>/teams";

// Every awaited operation reports its error as a value: the mock meets EOFs, resets and
// timeouts all the time on purpose, and none of them is exceptional.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Catalogue

struct CatalogueEntry {
  std::string pattern;
  std::vector<std::string> segments;  // without the leading empty one
  std::vector<std::string> methods;   // catalogue order
};

struct Catalogue {
  json::array results;  // served as found in the file
  std::vector<CatalogueEntry> entries;
};

bool is_placeholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '<' && segment.back() == '>';
}

// "/a/b/" and "/a/b" are the same path; the catalogue's patterns have no trailing slash.
std::string_view strip_trailing_slash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

// Splits "/a/b" into {"a", "b"}; empty segments ("//") are kept so that they can fail to match.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

Catalogue load_catalogue(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("giosg-mock: cannot read catalogue " + file.string());
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  error_code ec;
  json::value document = json::parse(text, ec);
  auto fail = [&](const std::string& why) {
    return std::runtime_error("giosg-mock: catalogue " + file.string() + ": " + why);
  };
  if (ec) throw fail("not JSON: " + ec.message());
  const json::object* top = document.if_object();
  const json::value* results_value = top != nullptr ? top->if_contains("results") : nullptr;
  const json::array* results = results_value != nullptr ? results_value->if_array() : nullptr;
  if (results == nullptr) throw fail("no \"results\" array");

  Catalogue catalogue;
  catalogue.results = *results;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const std::string where = "/results/" + std::to_string(i);
    const json::object* entry = (*results)[i].if_object();
    const json::value* pattern_value = entry != nullptr ? entry->if_contains("url_pattern") : nullptr;
    const json::value* methods_value = entry != nullptr ? entry->if_contains("methods") : nullptr;
    const json::string* pattern = pattern_value != nullptr ? pattern_value->if_string() : nullptr;
    const json::array* methods = methods_value != nullptr ? methods_value->if_array() : nullptr;
    if (pattern == nullptr || methods == nullptr || pattern->empty() || pattern->front() != '/') {
      throw fail(where + ": needs a url_pattern starting with '/' and a methods array");
    }

    CatalogueEntry compiled;
    compiled.pattern = std::string(*pattern);
    for (auto segment : split_path(strip_trailing_slash(compiled.pattern))) {
      compiled.segments.emplace_back(segment);
    }
    for (const json::value& method : *methods) {
      const json::object* object = method.if_object();
      const json::value* name_value = object != nullptr ? object->if_contains("name") : nullptr;
      const json::string* name = name_value != nullptr ? name_value->if_string() : nullptr;
      if (name == nullptr) throw fail(where + "/methods: each needs a name");
      compiled.methods.emplace_back(*name);
    }
    catalogue.entries.push_back(std::move(compiled));
  }
  return catalogue;
}

// A literal segment beats a placeholder at the first position where two matches differ, which
// is what a literal-first search with backtracking finds (`/api/v5/users/me` over `<user_id>`).
const CatalogueEntry* match(const Catalogue& catalogue, std::string_view path) {
  auto segments = split_path(strip_trailing_slash(path));
  if (segments.empty()) return nullptr;
  if (std::any_of(segments.begin(), segments.end(), [](auto s) { return s.empty(); })) return nullptr;

  const CatalogueEntry* best = nullptr;
  std::vector<bool> best_literals;
  for (const CatalogueEntry& entry : catalogue.entries) {
    if (entry.segments.size() != segments.size()) continue;
    std::vector<bool> literals;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      bool literal = !is_placeholder(entry.segments[i]);
      matches = !literal || entry.segments[i] == segments[i];
      literals.push_back(literal);
    }
    if (matches && (best == nullptr || literals > best_literals)) {
      best = &entry;
      best_literals = std::move(literals);
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Faults

enum class FaultKind {
  none,
  close,
  status,
  malformed,
  clte,
  gzip_chunked,
  close_mid_body,
  late_answer,
  no_content_with_length,
  big_headers,
  body_bytes,
  chunked_body_bytes,
};

struct Fault {
  std::chrono::milliseconds delay{0};
  FaultKind kind = FaultKind::none;
  std::uint64_t value = 0;  // status code or byte count
};

Fault parse_fault(std::string_view spec) {
  Fault fault;
  auto bad = [&](std::string_view why) {
    return std::invalid_argument("bad mock fault \"" + std::string(spec) + "\": " + std::string(why));
  };
  std::string_view rest = spec;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty() || item == "none") continue;

    auto equals = item.find('=');
    std::string_view name = item.substr(0, equals);
    std::optional<std::uint64_t> number;
    if (equals != std::string_view::npos) {
      number = parse_uint(item.substr(equals + 1));
      if (!number) throw bad("expected a number after '='");
    }
    if (name == "delay" && number) {
      fault.delay += std::chrono::milliseconds(*number);
      continue;
    }
    struct Known {
      std::string_view name;
      FaultKind kind;
      bool numbered;
    };
    static constexpr Known kKnown[] = {
        {"close", FaultKind::close, false},
        {"malformed", FaultKind::malformed, false},
        {"clte", FaultKind::clte, false},
        {"gzip-chunked", FaultKind::gzip_chunked, false},
        {"close-mid-body", FaultKind::close_mid_body, false},
        {"late-answer", FaultKind::late_answer, true},
        {"204-with-length", FaultKind::no_content_with_length, false},
        {"big-headers", FaultKind::big_headers, false},
        {"status", FaultKind::status, true},
        {"body-bytes", FaultKind::body_bytes, true},
        {"chunked-body-bytes", FaultKind::chunked_body_bytes, true},
    };
    FaultKind kind = FaultKind::none;
    for (const Known& known : kKnown) {
      if (name == known.name && number.has_value() == known.numbered) kind = known.kind;
    }
    if (kind == FaultKind::none) throw bad("unknown item \"" + std::string(item) + "\"");
    if (fault.kind != FaultKind::none) throw bad("more than one fault besides delay");
    if (kind == FaultKind::status && (*number < 200 || *number > 599)) {
      throw bad("status must be 200..599");
    }
    fault.kind = kind;
    fault.value = number.value_or(0);
  }
  return fault;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// State shared by the owner thread and the io thread

namespace detail {

struct MockState {
  explicit MockState(MockOptions opts) : options(std::move(opts)) {}

  const MockOptions options;
  Catalogue catalogue;               // written by start() before the io thread exists
  std::optional<ssl::context> tls;   // outlives every stream: the io_context goes first
  std::unique_ptr<asio::io_context> io;
  std::thread thread;
  std::uint16_t port = 0;
  std::string origin;
  std::string scheme = "http";
  bool started = false;

  std::atomic<std::size_t> connections{0};
  std::atomic<bool> endpoints_failure{false};
  std::atomic<std::uint64_t> next_object_number{1000};

  mutable std::mutex mutex;
  std::vector<ReceivedRequest> received;  // guarded by mutex
  std::string default_fault;              // guarded by mutex
};

}  // namespace detail

using detail::MockState;

namespace {

// ---------------------------------------------------------------------------------------------
// Answers

using Response = http::response<http::string_body>;
using Request = http::request<http::string_body>;

Response json_response(http::status status, const json::value& body) {
  Response response{status, 11};
  response.set(http::field::server, "giosg-mock");
  auto code = static_cast<unsigned>(status);
  // 204 and 304 carry no body and no Content-Length (RFC 9110 8.6, 15.3.5, 15.4.5).
  if (code == 204 || code == 304) return response;
  response.set(http::field::content_type, "application/json");
  response.body() = json::serialize(body);
  response.prepare_payload();
  return response;
}

Response detail_response(http::status status, std::string_view detail) {
  return json_response(status, json::object{{"detail", detail}});
}

std::string join_methods(const std::vector<std::string>& methods) {
  std::string joined;
  for (const auto& method : methods) joined += (joined.empty() ? "" : ", ") + method;
  return joined;
}

std::string object_id(std::uint64_t number) {
  char tail[13];
  std::snprintf(tail, sizeof tail, "%012llx", static_cast<unsigned long long>(number));
  return std::string("00000000-0000-4000-8000-") + tail;
}

// The last literal segment names the resource ("users" for /orgs/<organization_id>/users/<user_id>).
std::string_view resource_name(const CatalogueEntry& entry) {
  for (auto it = entry.segments.rbegin(); it != entry.segments.rend(); ++it) {
    if (!is_placeholder(*it)) return *it;
  }
  return "object";
}

// A plausible DRF object for `entry`: each placeholder becomes a field holding the segment as
// sent, the last one (when the path ends in it) is the object's `id`.
json::object make_object(const CatalogueEntry& entry, const std::vector<std::string_view>& segments,
                         std::string id) {
  json::object object;
  object["id"] = id;
  for (std::size_t i = 0; i + 1 < entry.segments.size() && i < segments.size(); ++i) {
    std::string_view segment = entry.segments[i];
    if (is_placeholder(segment)) object[segment.substr(1, segment.size() - 2)] = segments[i];
  }
  object["name"] = "Mock " + std::string(resource_name(entry)) + " " + id.substr(id.size() > 4 ? id.size() - 4 : 0);
  object["created_at"] = "2024-01-01T12:00:00.000Z";
  object["updated_at"] = "2024-01-02T12:00:00.000Z";
  return object;
}

// Fields sent in a JSON object body are echoed into the answered object, like a real save.
void merge_body(json::object& object, const std::string& body) {
  error_code ec;
  json::value sent = json::parse(body, ec);
  if (ec || !sent.is_object()) return;
  for (const auto& [key, value] : sent.as_object()) {
    if (key != "id") object[key] = value;
  }
}

std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    }
  }
  return std::nullopt;
}

// gzip (RFC 1952) with zlib directly: the mock shares no code with the gateway's own gzip.
std::string gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("giosg-mock: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("giosg-mock: deflate failed");
  return out;
}

// Whether Accept-Encoding lists gzip (or x-gzip) without q=0. Enough for tests, not RFC 9110
// in full: "*" is not taken as gzip, so a client gets gzip only when it names it.
bool accepts_gzip(const ReceivedRequest& request) {
  auto header = request.header("Accept-Encoding");
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto semicolon = item.find(';');
    std::string_view coding = item.substr(0, semicolon);
    while (!coding.empty() && coding.front() == ' ') coding.remove_prefix(1);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip")) continue;
    std::string_view params = semicolon == std::string_view::npos ? "" : item.substr(semicolon + 1);
    std::string compact;
    for (char c : params) {
      if (c != ' ') compact += c;
    }
    if (compact == "q=0" || compact == "q=0." || compact == "q=0.0" || compact == "q=0.00" || compact == "q=0.000") {
      return false;
    }
    return true;
  }
  return false;
}

// GET on kPagedListPattern: options.list_pages pages of options.list_page_size teams, with
// absolute next/previous links on the mock's own origin (what giosg does on its own), gzip when
// asked for, and an ETag so that a proxy that rewrites the body can be seen to drop it.
Response paged_list(MockState& state, const ReceivedRequest& request, std::string_view path, std::string_view query) {
  const CatalogueEntry* entry = match(state.catalogue, path);
  const std::size_t pages = state.options.list_pages;
  std::uint64_t page = 1;
  if (auto text = query_parameter(query, "page")) {
    auto number = parse_uint(*text);
    if (!number || *number < 1 || *number > pages) {
      return detail_response(http::status::not_found, "Invalid page.");
    }
    page = *number;
  }
  const std::string base = state.origin + std::string(strip_trailing_slash(path));
  auto segments = split_path(strip_trailing_slash(path));

  json::object body;
  body["next"] = nullptr;
  if (page < pages) body["next"] = base + "?page=" + std::to_string(page + 1);
  body["previous"] = nullptr;  // DRF drops the parameter for the first page
  if (page > 1) body["previous"] = page == 2 ? base : base + "?page=" + std::to_string(page - 1);
  json::array results;
  const std::size_t size = state.options.list_page_size;
  for (std::size_t i = 0; i < size; ++i) {
    results.push_back(make_object(*entry, segments, object_id((page - 1) * size + i + 1)));
  }
  body["results"] = std::move(results);

  Response response = json_response(http::status::ok, body);
  const bool gzipped = accepts_gzip(request);
  response.set(http::field::vary, "Accept-Encoding");
  response.set(http::field::etag, "\"teams-page-" + std::to_string(page) + (gzipped ? "-gzip\"" : "\""));
  if (gzipped) {
    response.set(http::field::content_encoding, "gzip");
    response.body() = gzip(response.body());
    response.prepare_payload();
  }
  return response;
}

Response endpoints_page(MockState& state, const ReceivedRequest& request, std::string_view query) {
  if (state.endpoints_failure) {
    return detail_response(http::status::internal_server_error, "A server error occurred.");
  }
  const json::array& results = state.catalogue.results;
  const std::size_t page_size = state.options.page_size;
  const std::size_t pages = std::max<std::size_t>(1, (results.size() + page_size - 1) / page_size);
  std::uint64_t page = 1;
  if (auto text = query_parameter(query, "page")) {
    auto number = parse_uint(*text);
    if (!number || *number < 1 || *number > pages) {
      return detail_response(http::status::not_found, "Invalid page.");
    }
    page = *number;
  }

  // Links are absolute and, like DRF's, built from the request's own Host, so that they match
  // whatever origin the caller used (localhost vs 127.0.0.1) unless a test overrides them.
  std::string base;
  if (state.options.next_origin_override) {
    base = *state.options.next_origin_override;
  } else if (auto host = request.header("Host"); host && !host->empty()) {
    base = state.scheme + "://" + *host;
  } else {
    base = state.origin;
  }
  base += kEndpointsPath;

  json::object body;
  body["next"] = nullptr;
  if (page < pages) body["next"] = base + "?page=" + std::to_string(page + 1);
  // DRF drops the parameter for the first page.
  body["previous"] = nullptr;
  if (page > 1) body["previous"] = page == 2 ? base : base + "?page=" + std::to_string(page - 1);
  json::array slice;
  for (std::size_t i = (page - 1) * page_size; i < results.size() && i < page * page_size; ++i) {
    slice.push_back(results[i]);
  }
  body["results"] = std::move(slice);
  return json_response(http::status::ok, body);
}

Response catalogue_answer(MockState& state, const ReceivedRequest& request, std::string_view path) {
  const CatalogueEntry* entry = match(state.catalogue, path);
  if (entry == nullptr) return detail_response(http::status::not_found, "Not found.");

  // Like giosg's framework, HEAD is served wherever GET is.
  const std::string method = request.method == "HEAD" ? std::string("GET") : request.method;
  const auto& methods = entry->methods;
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    auto response =
        detail_response(http::status::method_not_allowed, "Method \"" + method + "\" not allowed.");
    response.set(http::field::allow, join_methods(methods));
    return response;
  }

  auto segments = split_path(strip_trailing_slash(path));
  const bool names_one_object = is_placeholder(entry->segments.back());
  auto new_id = [&] { return object_id(state.next_object_number++); };

  if (method == "OPTIONS") {
    json::array allowed;
    for (const auto& name : methods) allowed.emplace_back(name);
    std::string name = std::string(resource_name(*entry)) + (names_one_object ? " Instance" : " List");
    name.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(name.front())));
    auto response = json_response(http::status::ok,
                                  json::object{{"name", name},
                                               {"description", ""},
                                               {"renders", json::array{"application/json"}},
                                               {"parses", json::array{"application/json"}},
                                               {"allowed_methods", std::move(allowed)}});
    response.set(http::field::allow, join_methods(methods));
    return response;
  }
  if (method == "DELETE") {
    return json_response(http::status::no_content, nullptr);
  }
  if (method == "POST") {
    std::string id = new_id();
    auto created = make_object(*entry, segments, id);
    merge_body(created, request.body);
    auto response = json_response(http::status::created, created);
    // The paged resource's 201 names the new object by an absolute URL on the mock's origin,
    // for the gateway's Location rewriting to be tested.
    if (entry->pattern == kPagedListPattern) {
      response.set(http::field::location, state.origin + std::string(strip_trailing_slash(path)) + "/" + id);
    }
    return response;
  }
  if (method == "GET" && !names_one_object) {
    json::array items;
    items.push_back(make_object(*entry, segments, object_id(1)));
    items.push_back(make_object(*entry, segments, object_id(2)));
    return json_response(http::status::ok,
                         json::object{{"next", nullptr}, {"previous", nullptr}, {"results", std::move(items)}});
  }
  auto object = make_object(*entry, segments,
                            names_one_object ? std::string(segments.back()) : new_id());
  if (method == "PUT" || method == "PATCH") merge_body(object, request.body);
  return json_response(http::status::ok, object);
}

Response echo_answer(const ReceivedRequest& request) {
  json::array headers;
  for (const auto& [name, value] : request.headers) headers.push_back(json::array{name, value});
  return json_response(http::status::ok, json::object{{"method", request.method},
                                                      {"target", request.target},
                                                      {"headers", std::move(headers)},
                                                      {"body", request.body}});
}

// What to do with one request; the transport (plain or TLS) carries it out.
struct Plan {
  Fault fault;        // FaultKind::none or status: write `response`
  Response response;
};

Plan plan_answer(MockState& state, const ReceivedRequest& request) {
  Plan plan;
  const std::string& token = state.options.expected_token;
  if (!token.empty()) {
    std::vector<std::string_view> authorizations;
    for (const auto& [name, value] : request.headers) {
      if (iequals(name, "Authorization")) authorizations.push_back(value);
    }
    if (authorizations.size() != 1 || authorizations.front() != "Token " + token) {
      plan.response = detail_response(http::status::unauthorized,
                                      authorizations.empty() ? "Authentication credentials were not provided."
                                                             : "Invalid token.");
      plan.response.set(http::field::www_authenticate, "Token");
      return plan;
    }
  }

  try {
    if (auto spec = request.header("X-Mock-Fault")) {
      plan.fault = parse_fault(*spec);
    } else {
      std::lock_guard lock(state.mutex);
      plan.fault = parse_fault(state.default_fault);
    }
  } catch (const std::invalid_argument& error) {
    plan.fault = {};
    plan.response = detail_response(http::status::bad_request, error.what());
    return plan;
  }

  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = path.size() < target.size() ? target.substr(path.size() + 1) : "";

  if (plan.fault.kind == FaultKind::status) {
    plan.response = detail_response(static_cast<http::status>(plan.fault.value), "mock fault");
  } else if (request.header("X-Mock-Echo") == "1") {
    plan.response = echo_answer(request);
  } else if (request.method == "GET" && strip_trailing_slash(path) == kEndpointsPath) {
    plan.response = endpoints_page(state, request, query);
  } else if (const CatalogueEntry* entry = match(state.catalogue, path);
             request.method == "GET" && entry != nullptr && entry->pattern == kPagedListPattern) {
    plan.response = paged_list(state, request, path, query);
  } else {
    plan.response = catalogue_answer(state, request, path);
  }
  return plan;
}

ReceivedRequest to_record(const Request& request) {
  ReceivedRequest record;
  record.method = std::string(request.method_string());
  record.target = std::string(request.target());
  for (const auto& field : request) {
    record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  record.body = request.body();
  return record;
}

// ---------------------------------------------------------------------------------------------
// Transport

// How a connection goes on after an answer.
enum class Next { keep_alive, close, drop };  // drop: no TLS close_notify, no goodbye

template <class Stream>
auto& tcp_layer(Stream& stream) {
  return beast::get_lowest_layer(stream);
}

template <class Stream, class Buffers>
asio::awaitable<bool> write_raw(Stream& stream, const Buffers& buffers) {
  tcp_layer(stream).expires_after(kIdleTimeout);
  auto [ec, written] = co_await asio::async_write(stream, buffers, kNoThrow);
  co_return !ec;
}

// The generated body: byte i is 'a' + i % 26 (see the header).
std::string_view body_piece(std::uint64_t offset, std::size_t length) {
  static const std::string pattern = [] {
    std::string text(kWritePiece + 26, '\0');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
    return text;
  }();
  return std::string_view(pattern).substr(offset % 26, length);
}

template <class Stream>
asio::awaitable<Next> write_fault(Stream& stream, const Fault& fault, bool keep_alive) {
  const std::string connection = keep_alive ? "" : "Connection: close\r\n";
  switch (fault.kind) {
    case FaultKind::close:
      co_return Next::drop;
    case FaultKind::malformed:
      co_await write_raw(stream, asio::buffer(std::string_view("NOT HTTP\r\n\r\n")));
      co_return Next::drop;
    case FaultKind::clte:
      // Both framings at once: the request-smuggling shape a proxy must refuse (RFC 9112 6.3).
      co_await write_raw(stream, asio::buffer(std::string_view(
                                     "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\n"
                                     "Content-Type: application/json\r\nContent-Length: 2\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")));
      co_return Next::drop;
    case FaultKind::gzip_chunked:
      // Framed correctly, but the body stays gzip-coded once the chunking is removed.
      co_await write_raw(stream, asio::buffer(std::string_view(
                                     "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nABCDE\r\n0\r\n\r\n")));
      co_return Next::drop;
    case FaultKind::close_mid_body:
      co_await write_raw(stream, asio::buffer(std::string_view(
                                     "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\n"
                                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                                     "{\"results\"")));
      co_return Next::drop;
    case FaultKind::no_content_with_length: {
      const std::string head = "HTTP/1.1 204 No Content\r\nServer: giosg-mock\r\nContent-Length: 5\r\n" +
                               connection + "\r\n";
      if (!co_await write_raw(stream, asio::buffer(head))) co_return Next::drop;
      co_return keep_alive ? Next::keep_alive : Next::close;
    }
    case FaultKind::late_answer: {
      if (!co_await write_raw(stream, asio::buffer(std::string_view(
                                          "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\n"
                                          "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                                          "{\"first\":1}")))) {
        co_return Next::drop;
      }
      asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(fault.value));
      if (auto [ec] = co_await timer.async_wait(kNoThrow); ec) co_return Next::drop;
      if (!co_await write_raw(stream, asio::buffer(std::string_view(
                                          "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\n"
                                          "Content-Type: application/json\r\nContent-Length: 17\r\n\r\n"
                                          "{\"injected\":true}")))) {
        co_return Next::drop;
      }
      co_return Next::keep_alive;
    }
    case FaultKind::big_headers: {
      std::string head = "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\nContent-Type: application/json\r\n";
      for (int i = 0; i < 64; ++i) {
        head += "X-Mock-Filler-" + std::to_string(i) + ": " + std::string(1000, 'x') + "\r\n";
      }
      head += "Content-Length: 2\r\n" + connection + "\r\n{}";
      if (!co_await write_raw(stream, asio::buffer(head))) co_return Next::drop;
      co_return keep_alive ? Next::keep_alive : Next::close;
    }
    case FaultKind::body_bytes:
    case FaultKind::chunked_body_bytes: {
      const bool chunked = fault.kind == FaultKind::chunked_body_bytes;
      std::string head = "HTTP/1.1 200 OK\r\nServer: giosg-mock\r\nContent-Type: application/octet-stream\r\n";
      head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + std::to_string(fault.value) + "\r\n";
      head += connection + "\r\n";
      if (!co_await write_raw(stream, asio::buffer(head))) co_return Next::drop;
      for (std::uint64_t offset = 0; offset < fault.value;) {
        auto length = static_cast<std::size_t>(std::min<std::uint64_t>(kWritePiece, fault.value - offset));
        auto piece = body_piece(offset, length);
        bool ok = true;
        if (chunked) {
          std::ostringstream size_line;
          size_line << std::hex << length << "\r\n";
          std::string size_text = size_line.str();
          std::array<asio::const_buffer, 3> buffers{asio::buffer(size_text), asio::buffer(piece),
                                                    asio::buffer(std::string_view("\r\n"))};
          ok = co_await write_raw(stream, buffers);
        } else {
          ok = co_await write_raw(stream, asio::buffer(piece));
        }
        if (!ok) co_return Next::drop;
        offset += length;
      }
      if (chunked && !co_await write_raw(stream, asio::buffer(std::string_view("0\r\n\r\n")))) {
        co_return Next::drop;
      }
      co_return keep_alive ? Next::keep_alive : Next::close;
    }
    case FaultKind::none:
    case FaultKind::status:
      break;
  }
  co_return Next::drop;  // not reached: none and status are written as normal responses
}

asio::awaitable<void> say_goodbye(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_return;
}

asio::awaitable<void> say_goodbye(ssl::stream<beast::tcp_stream>& stream) {
  // Send close_notify so the peer can tell a complete answer from a truncated one; do not
  // wait long for the peer's own, which many clients never send.
  stream.next_layer().expires_after(kTlsShutdownTimeout);
  co_await stream.async_shutdown(kNoThrow);
}

bool is_http_parse_error(const error_code& ec) {
  static const error_code sample = http::error::bad_method;
  return ec.category() == sample.category();
}

template <class Stream>
asio::awaitable<void> serve_requests(MockState& state, Stream& stream) {
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);

    tcp_layer(stream).expires_after(kIdleTimeout);
    auto [head_ec, head_bytes] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    error_code ec = head_ec;
    if (!ec) {
      if (!parser.is_done()) {
        // A client that waits for 100 Continue before sending its body would otherwise hang.
        if (iequals(parser.get()[http::field::expect], "100-continue")) {
          co_await write_raw(stream, asio::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")));
        }
        tcp_layer(stream).expires_after(kIdleTimeout);
        auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
        ec = body_ec;
      }
    }
    if (ec) {
      // end_of_stream, timeouts, resets and TLS truncation just end the connection; only a
      // request we could not parse deserves an answer.
      std::optional<Response> refusal;
      if (ec == http::error::header_limit) {
        refusal = detail_response(http::status::request_header_fields_too_large, "Request headers too large.");
      } else if (ec == http::error::body_limit) {
        refusal = detail_response(http::status::payload_too_large, "Request body too large.");
      } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
                 is_http_parse_error(ec)) {
        refusal = detail_response(http::status::bad_request, "Malformed request.");
      }
      if (refusal) {
        refusal->keep_alive(false);
        tcp_layer(stream).expires_after(kIdleTimeout);
        co_await http::async_write(stream, *refusal, kNoThrow);
        co_await say_goodbye(stream);
      }
      co_return;
    }

    Request request = parser.release();
    ReceivedRequest record = to_record(request);
    {
      std::lock_guard lock(state.mutex);
      state.received.push_back(record);
    }

    Plan plan = plan_answer(state, record);
    if (plan.fault.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, plan.fault.delay);
      co_await timer.async_wait(kNoThrow);
    }

    const bool keep_alive = request.keep_alive();
    Next next = Next::close;
    if (plan.fault.kind == FaultKind::none || plan.fault.kind == FaultKind::status) {
      plan.response.version(request.version());
      plan.response.keep_alive(keep_alive);
      // HEAD: GET's head (its Content-Length included) and no body, as RFC 9110 §9.3.2 has it.
      if (request.method() == http::verb::head) plan.response.body().clear();
      tcp_layer(stream).expires_after(kIdleTimeout);
      auto [write_ec, written] = co_await http::async_write(stream, plan.response, kNoThrow);
      if (write_ec) next = Next::drop;
      else next = plan.response.keep_alive() ? Next::keep_alive : Next::close;
    } else {
      next = co_await write_fault(stream, plan.fault, keep_alive);
    }

    if (next == Next::drop) co_return;
    if (next == Next::close) {
      co_await say_goodbye(stream);
      co_return;
    }
  }
}

asio::awaitable<void> serve_connection(MockState& state, tcp::socket socket) {
  if (state.tls) {
    ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *state.tls);
    stream.next_layer().expires_after(kHandshakeTimeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
    if (ec) co_return;  // a client that gave up, or one that spoke plain HTTP to us
    co_await serve_requests(state, stream);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_requests(state, stream);
  }
}

void report_exception(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::cerr << "giosg-mock: connection failed: " << e.what() << std::endl;
  } catch (...) {
    std::cerr << "giosg-mock: connection failed" << std::endl;
  }
}

asio::awaitable<void> accept_connections(MockState& state, tcp::acceptor acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors and the like: wait a little rather than spin.
      asio::steady_timer pause(acceptor.get_executor(), 50ms);
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    ++state.connections;
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), serve_connection(state, std::move(socket)), report_exception);
  }
}

tcp::endpoint listen_endpoint(asio::io_context& io, const MockOptions& options) {
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (!ec) return {address, options.port};
  tcp::resolver resolver(io);
  auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("giosg-mock: cannot resolve listen host \"" + options.host + "\"");
  }
  return *results.begin();
}

std::string origin_host(const tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  // A wildcard listener is reachable over loopback; the origin is what a local client dials.
  if (address.is_unspecified()) {
    address = address.is_v6() ? asio::ip::address(asio::ip::address_v6::loopback())
                              : asio::ip::address(asio::ip::address_v4::loopback());
  }
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public surface

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

GiosgMock::GiosgMock(MockOptions options) : state_(std::make_unique<MockState>(std::move(options))) {}

GiosgMock::~GiosgMock() { stop(); }

void GiosgMock::start() {
  MockState& state = *state_;
  if (state.started) throw std::logic_error("giosg-mock: start() called twice");
  const MockOptions& options = state.options;
  if (options.catalogue_file.empty()) throw std::invalid_argument("giosg-mock: catalogue_file is required");
  if (options.page_size == 0) throw std::invalid_argument("giosg-mock: page_size must be at least 1");
  if (options.list_pages == 0) throw std::invalid_argument("giosg-mock: list_pages must be at least 1");
  if (options.tls_cert_file.has_value() != options.tls_key_file.has_value()) {
    throw std::invalid_argument("giosg-mock: TLS needs both a certificate and a key");
  }

  state.catalogue = load_catalogue(options.catalogue_file);
  if (options.tls_cert_file) {
    state.tls.emplace(ssl::context::tls_server);
    state.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    state.tls->use_certificate_chain_file(options.tls_cert_file->string());
    state.tls->use_private_key_file(options.tls_key_file->string(), ssl::context::pem);
    state.scheme = "https";
  }

  auto io = std::make_unique<asio::io_context>(1);
  tcp::acceptor acceptor(*io);
  auto endpoint = listen_endpoint(*io, options);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  auto bound = acceptor.local_endpoint();
  state.port = bound.port();
  state.origin = state.scheme + "://" + origin_host(bound) + ":" + std::to_string(state.port);

  asio::co_spawn(*io, accept_connections(state, std::move(acceptor)), report_exception);
  state.io = std::move(io);
  state.started = true;
  state.thread = std::thread([io = state.io.get()] { io->run(); });
}

void GiosgMock::stop() {
  MockState& state = *state_;
  if (!state.io) return;
  state.io->stop();
  if (state.thread.joinable()) state.thread.join();
  // Destroying the io_context destroys every suspended coroutine, and with it every socket.
  state.io.reset();
}

std::uint16_t GiosgMock::port() const { return state_->port; }

std::string GiosgMock::origin() const { return state_->origin; }

std::vector<ReceivedRequest> GiosgMock::received() const {
  std::lock_guard lock(state_->mutex);
  return state_->received;
}

std::size_t GiosgMock::request_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->received.size();
}

std::size_t GiosgMock::connections_accepted() const { return state_->connections; }

void GiosgMock::clear() {
  std::lock_guard lock(state_->mutex);
  state_->received.clear();
}

void GiosgMock::set_default_fault(std::string fault) {
  parse_fault(fault);  // refuse bad syntax here rather than on every request
  std::lock_guard lock(state_->mutex);
  state_->default_fault = std::move(fault);
}

void GiosgMock::set_endpoints_failure(bool fail) { state_->endpoints_failure = fail; }

void GiosgMock::set_catalogue_file(const std::filesystem::path& file) {
  MockState& state = *state_;
  if (!state.io) throw std::logic_error("giosg-mock: set_catalogue_file() before start()");
  // The io thread is the only reader of the catalogue: swap it there, and wait until it has.
  auto swapped = std::make_shared<std::promise<void>>();
  auto done = swapped->get_future();
  asio::post(*state.io, [&state, swapped, catalogue = load_catalogue(file)]() mutable {
    state.catalogue = std::move(catalogue);
    swapped->set_value();
  });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    throw std::runtime_error("giosg-mock: the io thread did not take the new catalogue");
  }
}

}  // namespace giosg::mock
