// bench-idle-client: opens N keep-alive connections to a proxy, sends one authenticated request on
// each and reads its whole response, then holds every connection open and idle until SIGTERM/SIGINT
// (or --hold seconds). Used by `bench/run.sh idle` to measure the proxy's memory per idle client.
//
//   bench-idle-client HOST PORT N PATH KEY [--hold SECONDS]
//
// Prints "ready <ok> <failed>" on stdout once every connection has had its answer, and at exit
// "closed_by_peer <count>" (connections the proxy closed while they were held).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// Reads one response (head + Content-Length body) from a blocking socket. False on error/close.
bool read_response(int fd, int& status) {
    std::string in;
    char buf[8192];
    std::size_t head_end = std::string::npos;
    std::size_t want = 0;
    for (;;) {
        if (head_end == std::string::npos) {
            head_end = in.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                status = in.size() > 12 ? std::atoi(in.c_str() + 9) : 0;
                std::size_t cl = 0;
                std::size_t p = 0;
                while ((p = in.find('\n', p)) != std::string::npos && p < head_end) {
                    ++p;
                    if (strncasecmp(in.c_str() + p, "content-length:", 15) == 0) cl = std::strtoull(in.c_str() + p + 15, nullptr, 10);
                }
                want = head_end + 4 + cl;
            }
        }
        if (head_end != std::string::npos && in.size() >= want) return true;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        in.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT N PATH KEY [--hold SECONDS]\n", argv[0]);
        return 2;
    }
    const char* host = argv[1];
    const int port = std::atoi(argv[2]);
    const long count = std::atol(argv[3]);
    const std::string path = argv[4];
    const std::string key = argv[5];
    long hold_s = -1;
    if (argc >= 8 && std::strcmp(argv[6], "--hold") == 0) hold_s = std::atol(argv[7]);
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
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                                "\r\nAuthorization: Bearer " + key + "\r\nAccept: application/json\r\n\r\n";

    std::vector<int> fds;
    fds.reserve(static_cast<std::size_t>(count));
    long failed = 0;
    long non200 = 0;
    const timeval tv{10, 0};
    for (long i = 0; i < count && !g_stop; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (failed++ == 0) std::perror("socket");
            continue;
        }
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int status = 0;
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()) ||
            !read_response(fd, status)) {
            if (failed++ == 0) std::perror("connection");
            ::close(fd);
            continue;
        }
        if (status != 200) ++non200;
        fds.push_back(fd);
    }
    std::printf("ready %zu %ld non200 %ld\n", fds.size(), failed, non200);
    std::fflush(stdout);

    // Hold: watch for connections the peer closes (idle timeout, limits) without touching the rest.
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < fds.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    long closed = 0;
    std::vector<epoll_event> events(256);
    const std::time_t start = std::time(nullptr);
    while (!g_stop && (hold_s < 0 || std::time(nullptr) - start < hold_s)) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
        for (int i = 0; i < n; ++i) {
            const int fd = fds[events[i].data.u64];
            ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
            ++closed;
        }
    }
    std::printf("closed_by_peer %ld\n", closed);
    std::fflush(stdout);
    for (const int fd : fds) ::close(fd);
    return 0;
}
