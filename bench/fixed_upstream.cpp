// bench-fixed-upstream: the fast upstream every peer of bench/run.sh forwards to.
//
// One thread (or --threads N, each with its own SO_REUSEPORT listener and epoll set, for the
// multi-core runs), epoll, HTTP/1.1 keep-alive. Every request (any method, any path) gets the same
// 200 answer with a fixed ~200-byte JSON body and a Content-Length. Pipelined requests are
// answered in order; a request body announced by Content-Length is skipped (chunked request
// bodies are not supported: none of the benchmark peers sends one). "Connection: close" is
// honoured. The point is to cost as little as possible so that what the harness measures is
// the proxy in front of it.
//
// With --auth VALUE every request whose Authorization header is not exactly VALUE gets a 401
// instead (so a proxy that fails to swap in the server token shows up as non-2xx in wrk).
// With --page N the body is a giosg-style list page of N teams (~180 bytes each) whose `next`
// and `previous` are absolute URLs on --page-origin (default: this upstream's own origin, so a
// gateway in front rewrites them); --gzip sends that body gzip-encoded (zlib, level 6).
//
//   bench-fixed-upstream PORT [--host HOST] [--auth VALUE] [--threads N]
//                        [--page N [--page-origin URL] [--gzip 1]]
//   (HOST defaults to 127.0.0.1, N to 1)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <zlib.h>

namespace {

constexpr std::string_view kBody =
    R"({"id":"4bb5b0a2-1d7c-4a8e-9b2f-6f1c2f4e8a10","organization_id":"7f9e9580-095b-42c7-838c-c04e667b26f7",)"
    R"("first_name":"Bench","last_name":"Upstream","email":"bench@example.com","is_active":true,"count":1}
)";

std::string list_page(int teams, const std::string& origin) {
    const std::string list = origin + "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams";
    std::string body = "{\"next\":\"" + list + "?page=3\",\"previous\":\"" + list + "?page=1\",\"results\":[";
    for (int i = 0; i < teams; ++i) {
        if (i) body += ',';
        body += R"({"id":"2c7d9a1e-0b7e-4f7a-9d3c-)" + std::to_string(100000000000 + i) + R"(","name":"Team )" +
                std::to_string(i) +
                R"(","organization_id":"7f9e9580-095b-42c7-838c-c04e667b26f7","created_at":"2026-11-30T08:15:00.000Z","is_default":false})";
    }
    return body + "]}";
}

std::string gzip(const std::string& data) {
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
    std::string out(deflateBound(&z, data.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string make_response(std::string_view body, bool gzipped) {
    std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    if (gzipped) r += "Content-Encoding: gzip\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
}

std::string kResponse = make_response(kBody, false);  // replaced in main() for --page
const std::string kUnauthorized =
    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n"
    "{\"detail\":\"bench upstream: wrong token\"}\n";
std::string g_auth;  // expected Authorization value; empty = accept anything
constexpr std::size_t kMaxHead = 64 * 1024;

struct Conn {
    int fd = -1;
    std::string in;          // unparsed request bytes
    std::size_t skip = 0;    // request-body bytes still to discard
    std::string out;         // response bytes not yet written
    bool close_after = false;
    bool want_out = false;   // EPOLLOUT registered
};

bool ieq_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return v;
}

// Consumes complete requests from c.in, appending one response per request to c.out.
// Returns false on a malformed or oversized head (the connection is then closed).
bool process(Conn& c) {
    std::size_t pos = 0;
    for (;;) {
        if (c.skip > 0) {
            const std::size_t n = std::min(c.skip, c.in.size() - pos);
            c.skip -= n;
            pos += n;
            if (c.skip > 0) break;
        }
        const std::string_view rest(c.in.data() + pos, c.in.size() - pos);
        const std::size_t end = rest.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            if (rest.size() > kMaxHead) return false;
            break;
        }
        const std::string_view head = rest.substr(0, end + 2);
        std::size_t content_length = 0;
        bool close = false;
        bool http10 = false;
        bool auth_ok = g_auth.empty();
        std::size_t line_start = 0;
        bool first = true;
        while (line_start < head.size()) {
            std::size_t line_end = head.find("\r\n", line_start);
            if (line_end == std::string_view::npos) line_end = head.size();
            const std::string_view line = head.substr(line_start, line_end - line_start);
            if (first) {
                http10 = line.size() >= 8 && line.substr(line.size() - 8) == "HTTP/1.0";
                first = false;
            } else if (ieq_prefix(line, "content-length:")) {
                const auto v = trim(line.substr(15));
                content_length = std::strtoull(std::string(v).c_str(), nullptr, 10);
            } else if (ieq_prefix(line, "connection:")) {
                const auto v = trim(line.substr(11));
                close = v.size() == 5 && ieq_prefix(v, "close");
            } else if (!g_auth.empty() && ieq_prefix(line, "authorization:")) {
                auth_ok = trim(line.substr(14)) == g_auth;
            }
            line_start = line_end + 2;
        }
        pos += end + 4;
        c.skip = content_length;
        c.out += auth_ok ? kResponse : kUnauthorized;
        if (close || http10) {
            c.close_after = true;
            c.in.clear();
            return true;
        }
    }
    c.in.erase(0, pos);
    return true;
}

std::atomic<bool> g_stop{false};  // lock-free, so safe to set from a signal handler
void on_signal(int) { g_stop.store(true); }

// A listening socket of its own per thread: the kernel spreads connections over them.
int make_listener(const sockaddr_in& addr) {
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(lfd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 4096) != 0) {
        std::perror("bind/listen");
        std::exit(1);
    }
    return lfd;
}

void serve(int lfd);

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [--host HOST] [--auth VALUE] [--threads N]\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const char* host = "127.0.0.1";
    int threads = 1;
    int page_teams = 0;
    std::string page_origin;
    bool page_gzip = false;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--host") == 0) {
            host = argv[i + 1];
        } else if (std::strcmp(argv[i], "--auth") == 0) {
            g_auth = argv[i + 1];
        } else if (std::strcmp(argv[i], "--page") == 0) {
            page_teams = std::atoi(argv[i + 1]);
            if (page_teams < 1 || page_teams > 100000) {
                std::fprintf(stderr, "--page must be 1..100000\n");
                return 2;
            }
        } else if (std::strcmp(argv[i], "--page-origin") == 0) {
            page_origin = argv[i + 1];
        } else if (std::strcmp(argv[i], "--gzip") == 0) {
            page_gzip = std::strcmp(argv[i + 1], "1") == 0;
        } else if (std::strcmp(argv[i], "--threads") == 0) {
            threads = std::atoi(argv[i + 1]);
            if (threads < 1 || threads > 256) {
                std::fprintf(stderr, "--threads must be 1..256\n");
                return 2;
            }
        } else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        std::fprintf(stderr, "bad host %s\n", host);
        return 2;
    }
    if (page_teams > 0) {
        if (page_origin.empty()) page_origin = std::string("http://") + host + ":" + std::to_string(port);
        const std::string page = list_page(page_teams, page_origin);
        kResponse = make_response(page_gzip ? gzip(page) : page, page_gzip);
    }
    std::vector<int> listeners;
    for (int t = 0; t < threads; ++t) listeners.push_back(make_listener(addr));
    std::fprintf(stderr, "bench-fixed-upstream listening on %s:%d (%d thread%s)\n", host, port, threads,
                 threads == 1 ? "" : "s");
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(serve, listeners[static_cast<std::size_t>(t)]);
    serve(listeners[0]);
    for (auto& thread : pool) thread.join();
    return 0;
}

namespace {

void serve(int lfd) {
    int one = 1;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the listener
    ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    std::vector<epoll_event> events(1024);
    std::vector<char> buf(64 * 1024);

    auto close_conn = [&](Conn* c) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        delete c;
    };
    // Writes what it can; returns false when the connection is finished or broken.
    auto flush = [&](Conn* c) -> bool {
        while (!c->out.empty()) {
            const ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                c->out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (!c->want_out) {
                    epoll_event e{};
                    e.events = EPOLLIN | EPOLLOUT;
                    e.data.ptr = c;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
                    c->want_out = true;
                }
                return true;
            }
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        if (c->want_out) {
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.ptr = c;
            ::epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            c->want_out = false;
        }
        return !c->close_after;
    };

    while (!g_stop.load()) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 500);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::perror("epoll_wait");
            std::exit(1);
        }
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == nullptr) {
                for (;;) {
                    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    auto* c = new Conn;
                    c->fd = fd;
                    epoll_event e{};
                    e.events = EPOLLIN;
                    e.data.ptr = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            auto* c = static_cast<Conn*>(events[i].data.ptr);
            bool alive = true;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                for (;;) {
                    const ssize_t r = ::recv(c->fd, buf.data(), buf.size(), 0);
                    if (r > 0) {
                        if (!c->close_after) c->in.append(buf.data(), static_cast<std::size_t>(r));
                        if (static_cast<std::size_t>(r) < buf.size()) break;
                        continue;
                    }
                    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                    if (r < 0 && errno == EINTR) continue;
                    alive = false;  // EOF or error
                    break;
                }
                if (alive && !c->close_after && !process(*c)) alive = false;
            }
            if (alive) alive = flush(c);
            if (!alive) close_conn(c);
        }
    }
}

}  // namespace
