// The attack battery: raw bytes an attacker (or a confused client) could send, each pinned to the
// answer docs/reference.md §3 requires. The gateway is the only thing between internal callers and a token
// that can read and change a whole giosg organisation, so path confusion (CVE-2019-9901:
// `/info/../private` past Envoy's RBAC; CVE-2021-29492: `%2F` in a path), request smuggling
// (RFC 9112 §6.3, §11.2) and header tricks must be refused — rejected, never rewritten.
//
// Every case asserts four things: the status, the JSON error `code`, the audit record
// (code/status/decision) and what giosg-mock received (nothing, unless the case says so). One
// fresh Harness per case, so the counts start at zero and one case cannot poison the next.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <poll.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <array>
#include <cctype>
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../fuzz/parser_compare.hpp"
#include "harness.hpp"
#include "http/target.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

// Small limits, so the limit cases need few bytes and the slow-head case little time.
constexpr std::size_t kMaxHeaderBytes = 4096;
constexpr std::size_t kMaxBodyBytes = 1024;
constexpr auto kHeaderTimeout = 400ms;

const std::string kUsersMe = "/api/v5/users/me";
const std::string kPostable = "/api/v5/users/4a1d2c3b/clients";  // POST with no scope required
const std::string kHostLine = "Host: gw.test\r\n";
// Replaced, when a case runs, by the mock's "127.0.0.1:PORT" (the upstream's own authority).
const std::string kUpstreamMarker = "{upstream}";

std::string org_path(std::string_view org, std::string_view rest) {
    return "/api/v5/orgs/" + std::string(org) + "/" + std::string(rest);
}
const std::string kRooms = org_path(kOrg, "rooms");
const std::string kOwnedChats = org_path(kOrg, "owned_chats");

std::string key_line(std::string_view key) { return "Authorization: Token " + std::string(key) + "\r\n"; }

// A GET of `target` with the given key (full access unless said otherwise) and extra header lines.
std::string get(std::string_view target, std::string_view extra = {}, std::string_view key = kKeyFull) {
    return "GET " + std::string(target) + " HTTP/1.1\r\n" + kHostLine + key_line(key) + std::string(extra) + "\r\n";
}

// A whole request line as given, then Host, the full key and `extra` header lines.
std::string with_request_line(std::string_view request_line, std::string_view extra = {}) {
    return std::string(request_line) + "\r\n" + kHostLine + key_line(kKeyFull) + std::string(extra) + "\r\n";
}

// A POST the full key may send (no scope needed), with the given framing lines and body bytes.
std::string post(std::string_view framing, std::string_view body) {
    return "POST " + kPostable + " HTTP/1.1\r\n" + kHostLine + key_line(kKeyFull) + std::string(framing) + "\r\n" +
           std::string(body);
}

// A complete request that would succeed if it were ever parsed: it must never reach the upstream.
std::string smuggled_request() {
    return "GET " + kUsersMe + " HTTP/1.1\r\nHost: x\r\n" + key_line(kKeyFull) + "X-Request-Id: smuggled\r\n\r\n";
}

// A refused request (`method target`, optional key) whose Content-Length body is a whole request.
std::string refused_with_smuggled_body(std::string_view method, std::string_view target,
                                       std::optional<std::string_view> key) {
    const std::string body = smuggled_request();
    return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n" + kHostLine +
           (key ? key_line(*key) : std::string()) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

std::string to_hex(std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    do {
        out.insert(out.begin(), kDigits[n % 16]);
        n /= 16;
    } while (n != 0);
    return out;
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size()) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
        if (i + 2 < in.size()) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 2]));
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(i + 1 < in.size() ? kAlphabet[(group >> 6) & 63] : '=');
        out.push_back(i + 2 < in.size() ? kAlphabet[group & 63] : '=');
    }
    return out;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool is_new_request_id(std::string_view id) {
    static const std::regex hex32("^[0-9a-fA-F]{32}$");
    return std::regex_match(id.begin(), id.end(), hex32);
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

// One response parsed from raw bytes (for answers read with read_until_close).
std::optional<Response> parse_response_text(std::string_view raw) {
    namespace bhttp = boost::beast::http;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    if (ec || !parser.is_done()) return std::nullopt;
    Response r;
    const auto& message = parser.get();
    r.status = static_cast<int>(message.result_int());
    for (const auto& field : message)
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    r.body = message.body();
    return r;
}

// =============================================================================================
// The table.

// What should happen to the connection after the first answer.
enum class After {
    unchecked,   // not asserted here: the contract leaves it open, or the case's check reads on
    close,       // closed, and nothing more is answered (a smuggled request would be)
    stays_open,  // a follow-up request on it gets its own, correct answer
};

// One answer the battery expects an audit record for.
struct Answer {
    std::string request_id;
    int status = 0;
    std::string code;  // "ok" when the upstream answered
    bool forwarded = false;
};

struct Attack;

struct AttackCase {
    std::string name;     // the test's name: Attack/AttackBattery.Run/<name>
    std::string request;  // raw bytes, sent at once ("{upstream}" is the mock's authority)
    int status = 0;
    std::string code;        // the JSON error code and audit code; "ok": the upstream's own answer
    bool forwarded = false;  // whether this request (and only it) reaches giosg-mock
    After after = After::unchecked;
    std::function<void(Attack&)> check;  // more assertions; may read or send more on the connection
    // Sends the bytes another way (a slow trickle) and returns the first answer.
    std::function<std::optional<Response>(Attack&)> deliver;
};

// gtest prints parameters in failure messages: the name is enough (the bytes are in the table).
void PrintTo(const AttackCase& attack_case, std::ostream* out) { *out << attack_case.name; }

// What a running case shares with its check.
struct Attack {
    Harness& harness;
    RawConnection& connection;
    std::string request;        // the bytes, marker substituted
    Response response;          // the first answer
    bool closed_seen = false;   // the delivery already saw the connection close
    std::vector<Answer> later;  // answers after the first one, each with its own audit record
};

AttackCase refused(std::string name, std::string request, int status, std::string code,
                   After after = After::unchecked) {
    return {std::move(name), std::move(request), status, std::move(code), false, after, {}, {}};
}
AttackCase bad_request(std::string name, std::string request) {
    return refused(std::move(name), std::move(request), 400, "bad_request", After::close);
}
// Reaches giosg-mock; `code` is "ok" when the mock's own answer comes back.
AttackCase forwarded(std::string name, std::string request, int status, std::string code,
                     std::function<void(Attack&)> check = {}, After after = After::stays_open) {
    return {std::move(name), std::move(request), status, std::move(code), true, after, std::move(check), {}};
}
AttackCase allowed(std::string name, std::string request, int status, std::function<void(Attack&)> check = {},
                   After after = After::stays_open) {
    return forwarded(std::move(name), std::move(request), status, "ok", std::move(check), after);
}

// --- checks ----------------------------------------------------------------------------------

// A gateway-made error: status, DRF-style JSON body with `code` and `request_id` (= the one
// X-Request-Id header), a string `detail`, and the headers its status requires.
void expect_gateway_error(const Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    ASSERT_EQ(r.header_count("X-Request-Id"), 1u);
    EXPECT_NE(r.header("Content-Type").value_or("").find("application/json"), std::string::npos);
    boost::system::error_code ec;
    const json::value body = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << "error body is not JSON: " << r.body;
    ASSERT_TRUE(body.is_object()) << r.body;
    const auto& object = body.as_object();
    ASSERT_TRUE(object.contains("code")) << r.body;
    EXPECT_EQ(str(object.at("code")), code) << r.body;
    ASSERT_TRUE(object.contains("request_id")) << r.body;
    EXPECT_EQ(str(object.at("request_id")), *r.header("X-Request-Id"));
    ASSERT_TRUE(object.contains("detail")) << r.body;
    EXPECT_TRUE(object.at("detail").is_string());
    if (status == 401) {
        EXPECT_EQ(r.header_count("WWW-Authenticate"), 1u);
        EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer realm="giosg-gateway")");
    }
    if (status == 405) {
        EXPECT_EQ(r.header_count("Allow"), 1u);
    }
}

// An answer from giosg-mock passed through: its status, no gateway `code`, one X-Request-Id.
void expect_upstream_answer(const Response& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
    boost::system::error_code ec;
    const json::value body = json::parse(r.body, ec);
    if (!ec && body.is_object()) {
        EXPECT_FALSE(body.as_object().contains("code"))
            << "a gateway error where the upstream's answer belongs: " << r.body;
    }
}

void expect_answer(const Response& r, int status, std::string_view code) {
    if (code == "ok") {
        expect_upstream_answer(r, status);
    } else {
        expect_gateway_error(r, status, code);
    }
}

// Reads to the end: it returns before its deadline only when the peer closed, so one read tells
// both whether anything more was answered and whether the connection was closed.
void expect_closed_without_more(Attack& attack) {
    if (attack.closed_seen) return;
    const auto started = Clock::now();
    const std::string rest = attack.connection.read_until_close(3s);
    const bool closed = Clock::now() - started < 2s;
    EXPECT_EQ(rest, "") << "more was answered after the refusal (a smuggled request?)";
    EXPECT_TRUE(closed) << "the connection stayed open after a " << attack.response.status;
    attack.closed_seen = true;
}

// Reads the next answer on the connection and records what its audit record must say.
void expect_next_answer(Attack& attack, std::string_view request_id, int status, std::string_view code) {
    const auto r = attack.connection.read_response(3s);
    ASSERT_TRUE(r.has_value()) << "no answer for " << request_id;
    expect_answer(*r, status, code);
    EXPECT_EQ(r->header("X-Request-Id"), std::string(request_id)) << "answers mixed up";
    attack.later.push_back({std::string(request_id), status, std::string(code), code == "ok"});
}

// The connection still serves a plain request, with that request's own answer.
void expect_follow_up_answered(Attack& attack) {
    ASSERT_FALSE(attack.closed_seen);
    attack.connection.send(get(kUsersMe, "X-Request-Id: follow-up\r\n"));
    expect_next_answer(attack, "follow-up", 200, "ok");
}

// The forwarded request's upstream copy: the server token (once), the upstream's Host (once), the
// answer's X-Request-Id (once), and no client key anywhere.
void expect_clean_upstream_request(Harness& h, const mock::ReceivedRequest& received, std::string_view request_id) {
    SCOPED_TRACE(received.method + " " + received.target);
    EXPECT_EQ(count_headers(received, "Authorization"), 1u);
    EXPECT_EQ(received.header("Authorization"), "Token " + std::string(kUpstreamToken));
    EXPECT_EQ(count_headers(received, "Host"), 1u);
    EXPECT_EQ(received.header("Host"), upstream_authority(h.mock()));
    EXPECT_EQ(count_headers(received, "X-Request-Id"), 1u);
    EXPECT_EQ(received.header("X-Request-Id"), std::string(request_id));
    for (const char* key : {kKeyFull, kKeyReports, kKeyNoScope}) {
        EXPECT_EQ(received.target.find(key), std::string::npos);
        for (const auto& [name, value] : received.headers) EXPECT_EQ(value.find(key), std::string::npos) << name;
    }
}

std::optional<Response> send_and_read(Attack& attack) {
    attack.connection.send(attack.request);
    return attack.connection.read_response(3s);
}

// =============================================================================================
// Special deliveries and checks.

// Slowloris: half a head, then one byte every 100 ms for as long as the gateway listens. The
// header timeout runs from the head's first byte, so trickling must not extend it. This case uses
// its own socket and poll(2): it must see the answer and the close as they happen, and a
// RawConnection read cannot be repeated once it has met the end of the stream.
std::optional<Response> trickle_head(Attack& attack) {
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), attack.harness.port()});
    socket.set_option(asio::ip::tcp::no_delay(true));
    const auto wait_readable = [&](std::chrono::milliseconds timeout) {
        pollfd descriptor{socket.native_handle(), POLLIN, 0};
        return ::poll(&descriptor, 1, static_cast<int>(timeout.count())) > 0;
    };

    const auto started = Clock::now();
    asio::write(socket, asio::buffer("GET " + kUsersMe + " HTTP/1.1\r\n" + kHostLine));
    const std::string drip = "X-Slow: " + std::string(200, 's');
    bool answered = false;
    for (std::size_t i = 0; i < drip.size() && !answered && Clock::now() - started < 3s; ++i) {
        boost::system::error_code ignored;  // a write after the gateway gave up may fail: fine
        asio::write(socket, asio::buffer(drip.data() + i, 1), ignored);
        answered = wait_readable(100ms);
    }
    const auto answered_after = Clock::now() - started;
    EXPECT_TRUE(answered) << "no answer while the head trickled in for 3 s";
    EXPECT_GE(answered_after, kHeaderTimeout - 50ms) << "answered before the header timeout";
    EXPECT_LT(answered_after, kHeaderTimeout + 800ms) << "the trickle kept the head alive past header_timeout_ms";

    // Everything up to the close (end of stream or reset), which must follow the answer at once.
    std::string raw;
    std::array<char, 4096> chunk{};
    const auto read_started = Clock::now();
    while (Clock::now() - read_started < 2s && wait_readable(1000ms)) {
        boost::system::error_code ec;
        const auto n = socket.read_some(asio::buffer(chunk), ec);
        raw.append(chunk.data(), n);
        if (ec) {
            attack.closed_seen = true;
            break;
        }
    }
    EXPECT_TRUE(attack.closed_seen) << "the connection stayed open after the 408";
    EXPECT_EQ(raw.rfind("HTTP/1.1 408 ", 0), 0u) << "got: [" << raw << "]";
    return parse_response_text(raw);
}

// The upstream received exactly the target (and body) the client sent: nothing rewritten.
std::function<void(Attack&)> upstream_got(std::string target, std::optional<std::string> body = std::nullopt) {
    return [target = std::move(target), body = std::move(body)](Attack& attack) {
        const auto received = attack.harness.mock().received();
        ASSERT_FALSE(received.empty());
        EXPECT_EQ(received[0].target, target);
        if (body) {
            EXPECT_EQ(received[0].body, *body);
            EXPECT_EQ(received[0].header("Content-Length"), std::to_string(body->size()));
            EXPECT_EQ(count_headers(received[0], "Transfer-Encoding"), 0u);
        }
    };
}

// Hop-by-hop Upgrade/Connection never travel: the upstream sees a plain GET, the client a plain 200.
void expect_upgrade_dropped(Attack& attack) {
    EXPECT_FALSE(attack.response.header("Upgrade").has_value());
    const auto received = attack.harness.mock().received();
    ASSERT_FALSE(received.empty());
    EXPECT_EQ(count_headers(received[0], "Upgrade"), 0u);
    for (const auto& [name, value] : received[0].headers) {
        if (iequals(name, "Connection")) {
            EXPECT_TRUE(iequals(value, "keep-alive")) << "the client's Connection list was forwarded: " << value;
        }
    }
}

void expect_fresh_request_id(Attack& attack) {
    const auto id = attack.response.header("X-Request-Id").value_or("");
    EXPECT_TRUE(is_new_request_id(id)) << id;
}

void expect_one_request_id_each_way(Attack& attack) {
    EXPECT_EQ(attack.response.header_count("X-Request-Id"), 1u);
    const auto received = attack.harness.mock().received();
    ASSERT_FALSE(received.empty());
    EXPECT_EQ(count_headers(received[0], "X-Request-Id"), 1u);
    EXPECT_EQ(received[0].header("X-Request-Id"), attack.response.header("X-Request-Id"));
}

// =============================================================================================
// The cases.

std::vector<AttackCase> path_cases() {
    std::vector<AttackCase> cases{
        // Dot segments, raw and encoded (CVE-2019-9901): refused, never resolved.
        bad_request("PathDotDotRaw", get("/api/v5/users/../users/me")),
        bad_request("PathDotRaw", get("/api/v5/./users/me")),
        bad_request("PathDotDotTrailing", get("/api/v5/users/me/..")),
        bad_request("PathDotTrailing", get("/api/v5/users/me/.")),
        bad_request("PathDotDotEncoded", get("/api/v5/users/%2e%2e/users/me")),
        bad_request("PathDotDotEncodedUpper", get("/api/v5/users/%2E%2E/users/me")),
        bad_request("PathDotDotEncodedFirstDot", get("/api/v5/users/%2E./users/me")),
        bad_request("PathDotDotEncodedSecondDot", get("/api/v5/users/.%2e/users/me")),
        bad_request("PathDotEncoded", get("/api/v5/%2e/users/me")),
        bad_request("PathDotDotOutOfAllowedOrg",
                    get(org_path(kOrg, "../" + std::string(kOtherOrg) + "/rooms"), {}, kKeyReports)),
        bad_request("PathDotDotEncodedOutOfAllowedOrg",
                    get(org_path(kOrg, "%2e%2e/" + std::string(kOtherOrg) + "/rooms"), {}, kKeyReports)),
        // Backslashes: some servers read them as '/'.
        bad_request("PathBackslashRaw", get("/api/v5/users\\me")),
        bad_request("PathBackslashEncodedLower", get("/api/v5/users%5cme")),
        bad_request("PathBackslashEncodedUpper", get("/api/v5/users%5Cme")),
        // Encoded slashes (CVE-2021-29492) at the start, middle and end of a segment.
        bad_request("PathEncodedSlashSegmentStart", get("/api/v5/users/%2Fme")),
        bad_request("PathEncodedSlashSegmentMiddle", get("/api/v5/orgs/" + std::string(kOrg) + "%2Fx/rooms")),
        bad_request("PathEncodedSlashSegmentEnd", get("/api/v5/users/me%2F")),
        bad_request("PathEncodedSlashLower", get("/api/v5/users%2fme")),
        // Encoded control characters.
        bad_request("PathEncodedNul", get("/api/v5/users/me%00")),
        bad_request("PathEncodedCrLf", get("/api/v5/users/me%0d%0aX-Injected:%201")),
        bad_request("PathEncodedUnitSeparator", get("/api/v5/users/m%1fe")),
        bad_request("PathEncodedDel", get("/api/v5/users/me%7f")),
        // Empty segments.
        bad_request("PathDoubleSlash", get("/api/v5//users/me")),
        bad_request("PathTripleSlash", get("/api/v5///users/me")),
        bad_request("PathLeadingDoubleSlash", get("//api/v5/users/me")),
        bad_request("PathTrailingDoubleSlash", get("/api/v5/users/me//")),
        bad_request("PathEmptyOrganizationSegment", get("/api/v5/orgs//rooms")),
        bad_request("PathDotOrganizationSegment", get("/api/v5/orgs/./rooms")),
        // Invalid percent-escapes.
        bad_request("PathEscapeNotHex", get("/api/v5/users/%zz")),
        bad_request("PathEscapeDoublePercent", get("/api/v5/users/%%36%36")),
        bad_request("PathEscapeOneDigit", get("/api/v5/users/me%4")),
        bad_request("PathEscapeTrailingPercent", get("/api/v5/users/me%")),
        bad_request("PathEscapeHalfHex", get("/api/v5/users/%g0")),
        // Bytes that are no part of an origin-form target.
        bad_request("PathFragment", get("/api/v5/users/me#x")),
        bad_request("PathRawSpaceMakesFourParts", with_request_line("GET /api/v5/users/me x HTTP/1.1")),
        bad_request("PathRawTab", with_request_line("GET /api/v5/users/me\tx HTTP/1.1")),
        bad_request("PathRawNul", with_request_line("GET /api/v5/users/me\0x HTTP/1.1"s)),
        bad_request("PathRawDel", get("/api/v5/users/me\x7f")),
        bad_request("PathNonAsciiByte", get("/api/v5/users/\x80")),
        bad_request("PathNonAsciiUtf8", get("/api/v5/users/caf\xc3\xa9/rooms")),
        bad_request("QueryBackslash", get("/api/v5/users/me?q=a\\b")),
        bad_request("QueryNonAscii", get("/api/v5/users/me?q=\xc3\xa9")),
        // Segments compare as sent, case-sensitively: no alias reaches a catalogued endpoint.
        refused("PathUpperCaseApi", get("/API/v5/users/me"), 404, "unknown_endpoint"),
        refused("PathUpperCaseVersion", get("/api/V5/users/me"), 404, "unknown_endpoint"),
        refused("PathSemicolonParameter", get("/api/v5/users/me;x=1"), 404, "unknown_endpoint"),
        // Organisation binding: the segment as sent must equal an allowed org exactly.
        refused("OrgOtherOrganization", get(org_path(kOtherOrg, "owned_chats"), {}, kKeyReports), 403,
                "organization_forbidden"),
        refused("OrgUpperCaseId", get(org_path(upper(kOrg), "owned_chats"), {}, kKeyReports), 403,
                "organization_forbidden"),
        refused("OrgSemicolonParameter", get(org_path(std::string(kOrg) + ";a", "rooms"), {}, kKeyReports), 403,
                "organization_forbidden"),
        refused("OrgPercentEncodedId",
                get(org_path("%37" + std::string(kOrg).substr(1), "owned_chats"), {}, kKeyReports), 403,
                "organization_forbidden"),
        refused("OrgWildcardSegment", get(org_path("*", "owned_chats"), {}, kKeyReports), 403,
                "organization_forbidden"),
        refused("LowerCaseMethod", with_request_line("get " + kUsersMe + " HTTP/1.1"), 405, "method_not_allowed"),
    };
    return cases;
}

std::vector<AttackCase> target_cases() {
    return {
        bad_request("TargetAbsoluteFormOtherHost",
                    with_request_line("GET http://evil.example/api/v5/users/me HTTP/1.1")),
        bad_request("TargetAbsoluteFormUpstream",
                    with_request_line("GET http://" + kUpstreamMarker + "/api/v5/users/me HTTP/1.1")),
        bad_request("TargetAbsoluteFormHttps",
                    with_request_line("GET https://service.giosg.com/api/v5/users/me HTTP/1.1")),
        bad_request("TargetAbsoluteFormUserinfo",
                    with_request_line("GET http://user@" + kUpstreamMarker + "/api/v5/users/me HTTP/1.1")),
        bad_request("TargetAuthorityFormConnect",
                    "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n" + key_line(kKeyFull) + "\r\n"),
        bad_request("TargetAsteriskOptions", with_request_line("OPTIONS * HTTP/1.1")),
        bad_request("TargetAsteriskGet", with_request_line("GET * HTTP/1.1")),
        bad_request("TargetNoLeadingSlash", with_request_line("GET api/v5/users/me HTTP/1.1")),
        bad_request("TargetEmpty", with_request_line("GET  HTTP/1.1")),
        bad_request("TargetHttp2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    };
}

AttackCase slow_head_case() {
    AttackCase slow = refused("HeadTrickledSlowly", {}, 408, "request_timeout", After::close);
    slow.deliver = trickle_head;
    return slow;
}

std::vector<AttackCase> framing_cases() {
    const std::string smuggled = smuggled_request();
    const std::string smuggling_chunks = "0\r\n\r\n" + smuggled;
    const std::string cl = "Content-Length: " + std::to_string(smuggling_chunks.size()) + "\r\n";
    const std::string te = "Transfer-Encoding: chunked\r\n";
    const auto te_is = [](std::string_view value) { return "Transfer-Encoding: " + std::string(value) + "\r\n"; };
    const std::string one_chunk = "2\r\n{}\r\n0\r\n\r\n";
    const std::string big_chunk(600, 'x');
    return {
        // CL.TE / TE.CL (RFC 9112 §6.3): either header order, the body hides a second request.
        bad_request("FramingContentLengthThenTransferEncoding", post(cl + te, smuggling_chunks)),
        bad_request("FramingTransferEncodingThenContentLength", post(te + cl, smuggling_chunks)),
        // Content-Length must be one field of 1-19 digits.
        bad_request("ContentLengthTwoDifferent", post("Content-Length: 2\r\nContent-Length: 5\r\n", "{}")),
        bad_request("ContentLengthTwoEqual", post("Content-Length: 2\r\nContent-Length: 2\r\n", "{}")),
        bad_request("ContentLengthList", post("Content-Length: 2, 2\r\n", "{}")),
        bad_request("ContentLengthNegative", post("Content-Length: -1\r\n", "{}")),
        bad_request("ContentLengthPlusSign", post("Content-Length: +2\r\n", "{}")),
        bad_request("ContentLengthExponent", post("Content-Length: 1e3\r\n", "{}")),
        bad_request("ContentLengthInnerSpace", post("Content-Length: 2 2\r\n", "{}")),
        bad_request("ContentLengthHex", post("Content-Length: 0x2\r\n", "{}")),
        bad_request("ContentLengthEmpty", post("Content-Length: \r\n", "{}")),
        bad_request("ContentLengthOverflow", post("Content-Length: 99999999999999999999\r\n", "{}")),
        // Transfer-Encoding must be exactly "chunked" (case-insensitive, OWS trimmed), once, in HTTP/1.1.
        bad_request("TransferEncodingChunkedTwice", post(te_is("chunked, chunked"), one_chunk)),
        bad_request("TransferEncodingGzip", post(te_is("gzip"), one_chunk)),
        bad_request("TransferEncodingChunkedThenGzip", post(te_is("chunked, gzip"), one_chunk)),
        bad_request("TransferEncodingGzipThenChunked", post(te_is("gzip, chunked"), one_chunk)),
        bad_request("TransferEncodingUnknownThenChunked", post(te_is("eee, chunked"), one_chunk)),
        bad_request("TransferEncodingIdentity", post(te_is("identity"), "{}")),
        bad_request("TransferEncodingPrefixedChunked", post(te_is("xchunked"), one_chunk)),
        bad_request("TransferEncodingTwoFields", post(te + te, one_chunk)),
        bad_request("TransferEncodingInHttp10",
                    "POST " + kPostable + " HTTP/1.0\r\n" + kHostLine + key_line(kKeyFull) + te + "\r\n" + one_chunk),
        // Field syntax (RFC 9112 §5).
        bad_request("HeaderSpaceBeforeColon",
                    "GET " + kUsersMe + " HTTP/1.1\r\nHost : gw.test\r\n" + key_line(kKeyFull) + "\r\n"),
        bad_request("HeaderTabBeforeColon", get(kUsersMe, "X-Tabbed\t: v\r\n")),
        bad_request("HeaderObsFoldSpace", get(kUsersMe, "X-Folded: first\r\n second\r\n")),
        bad_request("HeaderObsFoldTab", get(kUsersMe, "X-Folded: first\r\n\tsecond\r\n")),
        bad_request("HeaderSpaceInName", get(kUsersMe, "X Bad: v\r\n")),
        bad_request("HeaderEmptyName", get(kUsersMe, ": v\r\n")),
        bad_request("HeaderBareCrInValue", get(kUsersMe, "X-Bad: a\rb\r\n")),
        bad_request("HeaderNulInValue", get(kUsersMe, "X-Bad: a\0b\r\n"s)),
        bad_request("BareLfAfterRequestLine",
                    "GET " + kUsersMe + " HTTP/1.1\n" + kHostLine + key_line(kKeyFull) + "\r\n"),
        bad_request("BareLfAfterHeader",
                    "GET " + kUsersMe + " HTTP/1.1\r\nHost: gw.test\n" + key_line(kKeyFull) + "\r\n"),
        bad_request("HostMissing", "GET " + kUsersMe + " HTTP/1.1\r\n" + key_line(kKeyFull) + "\r\n"),
        bad_request("HostTwice", get(kUsersMe, "Host: evil.example\r\n")),
        bad_request("VersionHttp12", with_request_line("GET " + kUsersMe + " HTTP/1.2")),
        bad_request("VersionHttp20", with_request_line("GET " + kUsersMe + " HTTP/2.0")),
        bad_request("VersionHttp09", with_request_line("GET " + kUsersMe + " HTTP/0.9")),
        bad_request("VersionLowerCase", with_request_line("GET " + kUsersMe + " http/1.1")),
        bad_request("VersionMissing", with_request_line("GET " + kUsersMe)),
        // Chunked bodies are read whole before forwarding: a broken one reaches nobody.
        bad_request("ChunkSizeNotHex", post(te, "zz\r\n{}\r\n0\r\n\r\n")),
        bad_request("ChunkSizeNegative", post(te, "-1\r\n{}\r\n0\r\n\r\n")),
        bad_request("ChunkSizeSeventeenDigits", post(te, "00000000000000002\r\n{}\r\n0\r\n\r\n")),
        bad_request("ChunkDataWithoutCrLf", post(te, "2\r\n{}XX0\r\n\r\n")),
        bad_request("ChunkExtensionBareLf", post(te, "2;ext\n{}\r\n0\r\n\r\n")),
        // Limits.
        refused("BodyOverLimitContentLength", post("Content-Length: " + std::to_string(kMaxBodyBytes + 1) + "\r\n", ""),
                413, "payload_too_large", After::close),
        refused("BodyContentLengthNineteenDigits", post("Content-Length: 9999999999999999999\r\n", ""), 413,
                "payload_too_large", After::close),
        refused("BodyOverLimitChunked", post(te, "258\r\n" + big_chunk + "\r\n258\r\n" + big_chunk + "\r\n0\r\n\r\n"),
                413, "payload_too_large", After::close),
        refused("ExpectContinueOverLimitGetsNo100",
                post("Expect: 100-continue\r\nContent-Length: " + std::to_string(kMaxBodyBytes + 1) + "\r\n", ""), 413,
                "payload_too_large", After::close),
        refused("HeadersOverLimit", get(kUsersMe, "X-Padding: " + std::string(kMaxHeaderBytes + 100, 'p') + "\r\n"),
                431, "headers_too_large", After::close),
        refused("RequestLineOverLimit", get(kUsersMe + "?q=" + std::string(kMaxHeaderBytes + 100, 'q')), 431,
                "headers_too_large", After::close),
        slow_head_case(),
    };
}

std::vector<AttackCase> header_cases() {
    return {
        // Connection naming end-to-end fields never strips the server token, Host or the request id.
        allowed("ConnectionNamesAuthorization", get(kUsersMe, "Connection: Authorization\r\n"), 200),
        allowed("ConnectionNamesHost", get(kUsersMe, "Connection: Host\r\n"), 200),
        allowed("ConnectionNamesRequestId", get(kUsersMe, "X-Request-Id: conn-rid\r\nConnection: X-Request-Id\r\n"),
                200, expect_one_request_id_each_way),
        // The upstream's Host is set by the gateway, whatever the client claims.
        allowed("HostSpoofedAsGiosg",
                "GET " + kUsersMe + " HTTP/1.1\r\nHost: service.giosg.com\r\n" + key_line(kKeyFull) + "\r\n", 200),
        allowed("HostSpoofedAsEvil",
                "GET " + kUsersMe + " HTTP/1.1\r\nHost: evil.example\r\n" + key_line(kKeyFull) + "\r\n", 200),
        // The key counts only in Authorization with the Bearer or Token scheme.
        refused("KeyInQueryOnly", "GET " + kUsersMe + "?token=" + kKeyFull + " HTTP/1.1\r\n" + kHostLine + "\r\n", 401,
                "not_authenticated"),
        refused("KeyInXApiKeyOnly",
                "GET " + kUsersMe + " HTTP/1.1\r\n" + kHostLine + "X-Api-Key: " + kKeyFull + "\r\n\r\n", 401,
                "not_authenticated"),
        refused("KeyAsBasicCredentials",
                "GET " + kUsersMe + " HTTP/1.1\r\n" + kHostLine + "Authorization: Basic " +
                    base64(std::string(kKeyFull) + ":") + "\r\n\r\n",
                401, "not_authenticated"),
        refused("KeyInTwoAuthorizationFields",
                get(kUsersMe, "Authorization: Bearer " + std::string(kKeyReports) + "\r\n"), 401, "not_authenticated"),
        // A websocket handshake is an ordinary GET upstream: Upgrade and Connection are hop-by-hop.
        allowed("WebsocketUpgradeIsNotForwarded",
                get(kUsersMe,
                    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
                200, expect_upgrade_dropped),
        allowed("RequestIdOversizedIsReplaced", get(kUsersMe, "X-Request-Id: " + std::string(200, 'r') + "\r\n"), 200,
                expect_fresh_request_id),
    };
}

std::vector<AttackCase> desync_cases() {
    const std::string smuggled = smuggled_request();
    const std::string chunked_smuggle = "POST " + kRooms + " HTTP/1.1\r\n" + kHostLine +
                                        "Transfer-Encoding: chunked\r\n\r\n" + to_hex(smuggled.size()) + "\r\n" +
                                        smuggled + "\r\n0\r\n\r\n" + smuggled;
    // An allowed POST whose Content-Length covers only "{}": what follows is the next request.
    const auto short_body_then = [](const std::string& next) {
        return post("Content-Length: 2\r\nX-Request-Id: desync-1\r\n", "{}" + next);
    };
    const std::string next_unauthenticated =
        "GET " + kUsersMe + " HTTP/1.1\r\n" + kHostLine + "X-Request-Id: desync-2\r\n\r\n";
    const std::string next_other_org = "GET " + org_path(kOtherOrg, "owned_chats") + " HTTP/1.1\r\n" + kHostLine +
                                       key_line(kKeyReports) + "X-Request-Id: desync-2\r\n\r\n";
    const auto then_refused = [](int status, std::string code) {
        return [status, code = std::move(code)](Attack& attack) {
            EXPECT_EQ(attack.response.header("X-Request-Id"), "desync-1");
            expect_next_answer(attack, "desync-2", status, code);
        };
    };
    return {
        // A refused request's body is never read, so never parsed as a next request.
        refused("DesyncBodyOfUnauthenticated", refused_with_smuggled_body("POST", kRooms, std::nullopt), 401,
                "not_authenticated", After::close),
        refused("DesyncBodyOfOtherOrganization",
                refused_with_smuggled_body("POST", org_path(kOtherOrg, "rooms"), kKeyReports), 403,
                "organization_forbidden", After::close),
        refused("DesyncBodyOfInsufficientScope", refused_with_smuggled_body("POST", kRooms, kKeyReports), 403,
                "insufficient_scope", After::close),
        refused("DesyncBodyOfUnknownEndpoint", refused_with_smuggled_body("POST", "/api/v5/no_such_thing", kKeyFull),
                404, "unknown_endpoint", After::close),
        refused("DesyncBodyOfMethodNotAllowed", refused_with_smuggled_body("POST", kUsersMe, kKeyFull), 405,
                "method_not_allowed", After::close),
        refused("DesyncChunkedBodyOfUnauthenticated", chunked_smuggle, 401, "not_authenticated", After::close),
        refused("DesyncExpectContinueRefusedGetsNo100",
                "POST " + kRooms + " HTTP/1.1\r\n" + kHostLine + "Expect: 100-continue\r\nContent-Length: 17\r\n\r\n",
                401, "not_authenticated", After::close),
        // Bytes after an allowed request's Content-Length are the next request, judged on their own.
        allowed("DesyncShortContentLengthThenUnauthenticated", short_body_then(next_unauthenticated), 201,
                then_refused(401, "not_authenticated"), After::unchecked),
        allowed("DesyncShortContentLengthThenOtherOrganization", short_body_then(next_other_org), 201,
                then_refused(403, "organization_forbidden"), After::unchecked),
    };
}

std::vector<AttackCase> upstream_cases() {
    const auto fault = [](std::string name, std::string_view what) {
        return forwarded(std::move(name), get(kUsersMe, "X-Mock-Fault: " + std::string(what) + "\r\n"), 502,
                         "upstream_unavailable");
    };
    return {
        fault("UpstreamContentLengthAndChunked", "clte"),
        fault("UpstreamGzipThenChunked", "gzip-chunked"),
        fault("UpstreamInvalidStatusLine", "malformed"),
        fault("UpstreamOversizedHeaders", "big-headers"),
        fault("UpstreamClosesMidBody", "close-mid-body"),
        fault("UpstreamClosesWithoutAnswer", "close"),
    };
}

std::vector<AttackCase> control_cases() {
    return {
        allowed("ControlGetUsersMe", get(kUsersMe), 200, upstream_got(kUsersMe)),
        allowed("ControlReportsClientOwnOrganization", get(kOwnedChats, {}, kKeyReports), 200,
                upstream_got(kOwnedChats)),
        allowed("ControlPostWithContentLength", post("Content-Length: 2\r\n", "{}"), 201,
                upstream_got(kPostable, "{}")),
        allowed("ControlContentLengthWithOws", post("Content-Length: \t2 \r\n", "{}"), 201,
                upstream_got(kPostable, "{}")),
        allowed("ControlChunkedAnyCase", post("Transfer-Encoding: Chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"), 201,
                upstream_got(kPostable, "{}")),
        allowed("ControlChunkedWithTrailingOws", post("Transfer-Encoding: chunked \r\n", "2\r\n{}\r\n0\r\n\r\n"), 201,
                upstream_got(kPostable, "{}")),
        allowed("ControlTokenQueryParameterRemoved", get(kUsersMe + "?token=" + kKeyFull + "&x=1"), 200,
                upstream_got(kUsersMe + "?x=1")),
        allowed("ControlTrailingSlashForwardedAsSent", get(kUsersMe + "/"), 200, upstream_got(kUsersMe + "/")),
        allowed("ControlEncodedLetterForwardedAsSent", get(org_path(kOrg, "rooms/r%41")), 200,
                upstream_got(org_path(kOrg, "rooms/r%41"))),
        allowed("ControlHttp10WithoutHost", "GET " + kUsersMe + " HTTP/1.0\r\n" + key_line(kKeyFull) + "\r\n", 200,
                upstream_got(kUsersMe), After::unchecked),
    };
}

const std::vector<AttackCase>& attack_cases() {
    static const std::vector<AttackCase> all = [] {
        std::vector<AttackCase> cases;
        for (auto group : {path_cases(), target_cases(), framing_cases(), header_cases(), desync_cases(),
                           upstream_cases(), control_cases()})
            for (auto& c : group) cases.push_back(std::move(c));
        return cases;
    }();
    return all;
}

HarnessOptions battery_options() {
    HarnessOptions options;
    options.policy_source = "file";  // no catalogue fetch: the mock sees only what the cases send
    options.limits_json = "\"max_header_bytes\": " + std::to_string(kMaxHeaderBytes) +
                          ", \"max_body_bytes\": " + std::to_string(kMaxBodyBytes) +
                          ", \"header_timeout_ms\": " + std::to_string(kHeaderTimeout.count());
    options.upstream_json = R"("connect_timeout_ms": 300, "timeout_ms": 2000)";
    return options;
}

std::string substitute(std::string text, std::string_view marker, std::string_view value) {
    for (std::size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + value.size()))
        text.replace(at, marker.size(), value);
    return text;
}

// =============================================================================================

class AttackBattery : public ::testing::TestWithParam<AttackCase> {};

TEST_P(AttackBattery, Run) {
    const AttackCase& attack_case = GetParam();
    Harness h(battery_options());
    std::vector<Answer> answers;
    {
        RawConnection connection(h.port());
        Attack attack{h,  connection, substitute(attack_case.request, kUpstreamMarker, upstream_authority(h.mock())),
                      {}, false,      {}};
        const auto response = attack_case.deliver ? attack_case.deliver(attack) : send_and_read(attack);
        ASSERT_TRUE(response.has_value()) << "no answer";
        attack.response = *response;
        expect_answer(attack.response, attack_case.status, attack_case.code);
        answers.push_back({attack.response.header("X-Request-Id").value_or(""), attack_case.status, attack_case.code,
                           attack_case.forwarded});
        if (attack_case.check) attack_case.check(attack);
        switch (attack_case.after) {
            case After::unchecked:
                break;
            case After::close:
                expect_closed_without_more(attack);
                break;
            case After::stays_open:
                expect_follow_up_answered(attack);
                break;
        }
        answers.insert(answers.end(), attack.later.begin(), attack.later.end());
    }
    // stop() drains: whatever the gateway forwarded or audited is complete afterwards.
    h.stop();

    // What giosg-mock received: exactly the forwarded answers' requests, in order, each clean.
    const auto received = h.mock().received();
    std::vector<const Answer*> forwarded;
    for (const auto& answer : answers)
        if (answer.forwarded) forwarded.push_back(&answer);
    ASSERT_EQ(received.size(), forwarded.size()) << "giosg-mock received other requests than expected";
    for (std::size_t i = 0; i < received.size(); ++i)
        expect_clean_upstream_request(h, received[i], forwarded[i]->request_id);

    // One audit record per answer, matched by request id, and never a secret in the file.
    const auto records = h.audit_records(0, 0ms);
    EXPECT_EQ(records.size(), answers.size()) << h.audit_text();
    for (const auto& answer : answers) {
        SCOPED_TRACE("audit record of " + answer.request_id);
        const auto it = std::find_if(records.begin(), records.end(), [&](const json::object& record) {
            return record.contains("request_id") && str(record.at("request_id")) == answer.request_id;
        });
        ASSERT_NE(it, records.end()) << h.audit_text();
        EXPECT_EQ(str(it->at("code")), answer.code);
        EXPECT_EQ(it->at("status"), json::value(answer.status));
        EXPECT_EQ(str(it->at("decision")), answer.forwarded ? "allow" : "deny");
        if (answer.code == "ok") {
            EXPECT_EQ(it->at("upstream_status"), json::value(answer.status));
        } else {
            EXPECT_TRUE(it->at("upstream_status").is_null());
        }
    }
    const std::string audit = h.audit_text();
    for (const char* secret : {kKeyFull, kKeyReports, kKeyNoScope, kUpstreamToken})
        EXPECT_EQ(audit.find(secret), std::string::npos) << "the audit file holds a secret";
}

INSTANTIATE_TEST_SUITE_P(Attack, AttackBattery, ::testing::ValuesIn(attack_cases()),
                         [](const ::testing::TestParamInfo<AttackCase>& case_info) { return case_info.param.name; });

// The battery's bytes and the request fuzz corpus through the gateway's parser and through
// Beast's request_parser, at the battery's head limit: the table of bench/README.md ("Request
// parser: the gateway's own vs Beast's"). Printed, and pinned in one direction: ours is the
// stricter parser, so a head it accepts is one Beast accepts too, except for the empty lines
// before the request line that RFC 9112 §2.2 lets a server skip (ours does, Beast does not).
TEST(AttackBattery, OwnParserIsStricterThanBeasts) {
    namespace pc = parser_compare;
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const auto& c : attack_cases()) inputs.emplace_back(c.name, substitute(c.request, kUpstreamMarker, "127.0.0.1:9"));
    std::vector<std::filesystem::path> corpus;
    for (const auto& entry : std::filesystem::directory_iterator(GIOSG_SOURCE_DIR "/tests/fuzz/corpus/request"))
        corpus.push_back(entry.path());
    std::sort(corpus.begin(), corpus.end());
    for (const auto& file : corpus) {
        std::ifstream in(file, std::ios::binary);
        inputs.emplace_back("corpus/" + file.filename().string(),
                            std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    }
    std::size_t disagreements = 0;
    std::cout << "| input | gateway | Beast | bytes |\n|---|---|---|---|\n";
    for (const auto& [name, bytes] : inputs) {
        const auto own = pc::own_reading(bytes, kMaxHeaderBytes);
        const auto beast = pc::beast_reading(bytes, kMaxHeaderBytes);
        if (own.verdict == beast.verdict) continue;
        ++disagreements;
        std::cout << "| " << name << " | " << pc::verdict_name(own.verdict) << (own.why.empty() ? "" : " (" + own.why + ")")
                  << " | " << pc::verdict_name(beast.verdict) << (beast.why.empty() ? "" : " (" + beast.why + ")")
                  << " | `" << pc::printable(bytes) << "` |\n";
        if (own.verdict == pc::Verdict::accept) {
            // Where ours accepts a head Beast refuses, the request is still refused, or harmless.
            http::RequestHead head;
            (void)http::parse_request_head(bytes, kMaxHeaderBytes, head);
            const bool skipped_empty_lines = bytes.starts_with("\r\n");                 // RFC 9112 §2.2
            const bool target_refused_later = !http::parse_target(head.target).ok;       // 400 all the same
            const bool odd_connection_value = head.find("Connection").has_value();       // names no field
            EXPECT_TRUE(skipped_empty_lines || target_refused_later || odd_connection_value)
                << name << ": accepted by the gateway, " << beast.why << " for Beast";
        }
    }
    std::cout << inputs.size() << " inputs, " << disagreements << " disagreements\n";
}

TEST(AttackBattery, HasAtLeastEightyCases) {
    EXPECT_GE(attack_cases().size(), 80u);
    // Names are test names: unique, and gtest allows only [A-Za-z0-9_].
    std::vector<std::string> names;
    for (const auto& c : attack_cases()) names.push_back(c.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace giosg::testing
