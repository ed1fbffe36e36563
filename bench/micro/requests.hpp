#pragma once
// The request head both parser benchmarks read (ours in head_bench, ours against Beast's in
// parser_bench): what a python-requests client sends for a page of users.
#include <string>

namespace giosg::bench {

inline std::string typical_get_request() {
    return "GET /api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/users?page_size=50 HTTP/1.1\r\n"
           "Host: giosg-gateway.internal:8080\r\n"
           "User-Agent: python-requests/2.31.0\r\n"
           "Accept-Encoding: gzip, deflate\r\n"
           "Accept: application/json\r\n"
           "Connection: keep-alive\r\n"
           "Authorization: Token 3q2+7wAAAAB0aGlzIGlzIGEgYmVuY2gga2V5IQ\r\n"
           "X-Request-Id: 7c3f1a52e0b94d2a9d3f5c8e1b2a4f60\r\n"
           "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
           "\r\n";
}

}  // namespace giosg::bench
