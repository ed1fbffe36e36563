// The unix socket listener (docs/reference.md §7): a real socket file, the peer's uid as the
// caller's identity, the file's mode, and a stale file replaced only when nobody listens.
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/sha256.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr std::uint32_t kOtherUid = 65534;  // nobody

std::string str(const json::object& record, std::string_view key) {
    const auto* v = record.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<none>");
}

std::string raw_request(const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string req = std::string("GET ") + kUsersMe + " HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n";
    for (const auto& [n, v] : headers) req += n + ": " + v + "\r\n";
    return req + "\r\n";
}

int connect_unix(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

// Sends `request` and reads until the gateway closes (Connection: close). Only system calls, so
// that it can run in a forked child.
std::size_t exchange(int fd, const std::string& request, char* out, std::size_t capacity) {
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return 0;
    std::size_t n = 0;
    for (;;) {
        const ssize_t got = ::read(fd, out + n, capacity - n);
        if (got <= 0) break;
        n += static_cast<std::size_t>(got);
        if (n == capacity) break;
    }
    return n;
}

std::optional<Response> parse_response(std::string_view bytes) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec || !parser.is_done()) return std::nullopt;
    Response r;
    r.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get()) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = parser.get().body();
    return r;
}

std::optional<Response> unix_request(const std::filesystem::path& path,
                                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    const int fd = connect_unix(path);
    if (fd < 0) return std::nullopt;
    std::string buffer(1 << 20, '\0');
    const auto n = exchange(fd, raw_request(headers), buffer.data(), buffer.size());
    ::close(fd);
    return parse_response(std::string_view(buffer.data(), n));
}

struct AsOtherUid {
    bool switched = false;            // the child became `uid` (false: no root, or no such uid here)
    std::optional<Response> response;  // nullopt: could not connect or no complete answer
};

// The same from a child process running as `uid` (needs root).
AsOtherUid unix_request_as(std::uint32_t uid, const std::filesystem::path& path) {
    const std::string request = raw_request();
    std::string buffer(1 << 16, '\0');
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return {};
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(pipe_fds[0]);
        if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(2);
        const int fd = connect_unix(path);
        if (fd < 0) ::_exit(3);
        const auto n = exchange(fd, request, buffer.data(), buffer.size());
        const bool written = ::write(pipe_fds[1], buffer.data(), n) == static_cast<ssize_t>(n);
        ::_exit(written ? 0 : 4);
    }
    ::close(pipe_fds[1]);
    std::string received;
    for (;;) {
        const ssize_t got = ::read(pipe_fds[0], buffer.data(), buffer.size());
        if (got <= 0) break;
        received.append(buffer.data(), static_cast<std::size_t>(got));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    AsOtherUid result;
    result.switched = WIFEXITED(status) && WEXITSTATUS(status) != 2;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) result.response = parse_response(received);
    return result;
}

class UnixSocket : public ::testing::Test {
protected:
    void SetUp() override { dir_ = make_temp_dir("giosg-unix"); }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    [[nodiscard]] HarnessOptions options(const std::string& mode = "0660") const {
        HarnessOptions o;
        o.policy_source = "file";
        o.listen_json = json::serialize(json::array{"127.0.0.1:0", "unix:" + socket().string()});
        o.top_json = R"("listen_mode": ")" + mode + "\"";
        o.clients_json = R"(    "sidecar": {"unix_uid": )" + std::to_string(::getuid()) +
                         R"(, "credential": "giosg", "scopes": ["users"], "organizations": ["*"]},)";
        return o;
    }
    [[nodiscard]] std::filesystem::path socket() const { return dir_ / "gw.sock"; }

    std::filesystem::path dir_;
};

TEST_F(UnixSocket, ThePeerUidIdentifiesTheClientWithoutAKey) {
    Harness h(options());
    struct stat st {};
    ASSERT_EQ(::lstat(socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    const auto r = unix_request(socket());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    // The TCP listener beside it still wants a key.
    EXPECT_EQ(request(h.port(), "GET", kUsersMe).status, 401);
    ASSERT_EQ(h.mock().received().size(), 1u);
    EXPECT_EQ(h.mock().received()[0].header("Authorization"), "Token " + std::string(kUpstreamToken));
    const auto records = h.audit_records(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(str(records[0], "client"), "sidecar");
    EXPECT_EQ(str(records[0], "identity"), "uid");
    EXPECT_EQ(str(records[0], "remote"), "unix:uid=" + std::to_string(::getuid()));
    h.stop();
    EXPECT_FALSE(std::filesystem::exists(socket()));  // removed at stop
}

TEST_F(UnixSocket, EveryWorkerAcceptsOnTheOneSocket) {
    HarnessOptions o = options();
    o.workers = 3;
    Harness h(o);
    for (int i = 0; i < 12; ++i) {
        const auto r = unix_request(socket());
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(h.mock().received().size(), 12u);
    h.stop();
    EXPECT_FALSE(std::filesystem::exists(socket()));
}

TEST_F(UnixSocket, AKeyOverTheSocketMustNameTheSameClient) {
    Harness h(options());
    const auto other = unix_request(socket(), {auth(kKeyFull)});
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 401);
    EXPECT_TRUE(h.mock().received().empty());
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(str(records[0], "identity"), "uid+key");
    EXPECT_EQ(str(records[0], "auth_error"), "conflicting_identities");
}

TEST_F(UnixSocket, APeerOfAnotherUidIsNotTheClient) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
    Harness h(options("0666"));
    const auto as_other = unix_request_as(kOtherUid, socket());
    if (!as_other.switched) GTEST_SKIP() << "cannot switch to uid " << kOtherUid << " here";
    const auto& r = as_other.response;
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    const auto records = h.audit_records(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(str(records[0], "auth_error"), "uid_unknown");
    EXPECT_EQ(str(records[0], "remote"), "unix:uid=" + std::to_string(kOtherUid));
}

TEST_F(UnixSocket, TheModeKeepsOtherUsersOut) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
    Harness h(options("0600"));
    const auto as_other = unix_request_as(kOtherUid, socket());
    if (!as_other.switched) GTEST_SKIP() << "cannot switch to uid " << kOtherUid << " here";
    EXPECT_FALSE(as_other.response);  // connect() refused: EACCES
    EXPECT_TRUE(h.mock().received().empty());
}

TEST_F(UnixSocket, AStaleSocketFileIsReplacedAndALiveOneOrAFileIsNot) {
    {
        // A socket file nobody listens on: what a killed gateway leaves.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket().c_str(), sizeof address.sun_path - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
        ::close(fd);
    }
    {
        Harness h(options());
        const auto r = unix_request(socket());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        // A second gateway on the same path while the first listens: refused, first untouched.
        try {
            Harness second(options());
            ADD_FAILURE() << "a second listener replaced a live socket";
        } catch (const std::exception& e) {
            EXPECT_NE(std::string(e.what()).find("another process is listening on it"), std::string::npos) << e.what();
        }
        const auto again = unix_request(socket());
        ASSERT_TRUE(again);
        EXPECT_EQ(again->status, 200);
    }
    write_text(socket(), "not a socket");
    try {
        Harness h(options());
        ADD_FAILURE() << "a regular file was replaced";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("/listen: cannot listen on unix:"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not a socket"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(socket()), "not a socket");
}

}  // namespace
}  // namespace giosg::testing
