#include "upstream/forward.hpp"

#include <boost/beast/core/error.hpp>
#include <spdlog/spdlog.h>

namespace giosg::upstream {

namespace {
constexpr std::size_t kMaxUpstreamHeadBytes = 32768;  // giosg answers with a few hundred bytes
using Clock = std::chrono::steady_clock;

bool idempotent(std::string_view method) noexcept {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE";
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}
}  // namespace

asio::awaitable<ForwardOutcome> forward_request(Pool& pool, const ForwardRequest& request,
                                                http::ResponseHead& response, Connection*& active) {
    struct ClearActive {
        Connection*& slot;
        ~ClearActive() { slot = nullptr; }
    } clear_active{active};
    ForwardOutcome outcome;
    const auto started = Clock::now();
    for (int attempt = 0;; ++attempt) {
        // (Two statements: GCC 12 miscompiles co_await inside a conditional expression.)
        Pool::Lease lease;
        if (attempt == 0) lease = co_await pool.acquire();
        else lease = co_await pool.connect_new();
        if (!lease.connection) {
            outcome.reason = lease.error == asio::error::timed_out ? Reason::upstream_timeout : Reason::upstream_unavailable;
            spdlog::warn("upstream connect failed: {} (request {})", lease.error.message(), request.request_id);
            // On a retry the request already went out once, on the connection that failed.
            if (attempt > 0) outcome.upstream_ms = ms_since(started);
            co_return outcome;
        }
        auto connection = std::move(lease.connection);
        active = connection.get();
        connection->expires_after(request.timeout);
        error_code ec;
        co_await connection->write(ec, request.bytes[0], request.bytes[1], request.bytes[2]);
        HeadError head_error = HeadError::none;
        if (ec) {
            head_error = ec == boost::beast::error::timeout ? HeadError::timeout : HeadError::closed_before_head;
        } else {
            head_error = co_await read_response_head(*connection, request.method == "HEAD", response,
                                                     outcome.head_bytes, kMaxUpstreamHeadBytes);
        }
        if (head_error == HeadError::none) {
            outcome.upstream_ms = ms_since(started);
            outcome.answered = true;
            if (response.other_coding) {
                // A coding besides chunked (gzip, ...) would reach the client still encoded once
                // the hop-by-hop Transfer-Encoding is dropped: treat it as an invalid answer.
                connection->close();
                spdlog::warn("upstream used a transfer coding other than chunked for request {}", request.request_id);
                outcome.reason = Reason::upstream_unavailable;
                co_return outcome;
            }
            outcome.connection = std::move(connection);
            co_return outcome;
        }
        connection->close();
        // A pooled connection the upstream had already given up on: try once more on a new one.
        if (head_error == HeadError::closed_before_head && lease.reused && attempt == 0 && idempotent(request.method))
            continue;
        outcome.reason = head_error == HeadError::timeout ? Reason::upstream_timeout : Reason::upstream_unavailable;
        outcome.upstream_ms = ms_since(started);  // forwarded, never answered
        spdlog::warn("upstream exchange failed ({}) for request {}", reason_code(outcome.reason), request.request_id);
        co_return outcome;
    }
}

}  // namespace giosg::upstream
