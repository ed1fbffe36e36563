// The limit stage (docs/architecture.md): the decisions are limits/'s (pure); this runs them
// against the replica's state, counts and answers what they refuse, and turns giosg's own 429
// into a hold on the credential (docs/reference.md, "Rate limits").
#include <spdlog/spdlog.h>

#include "http/head.hpp"
#include "limits/rate_headers.hpp"
#include "limits/retry_after.hpp"
#include "server/session.hpp"

namespace giosg::server {

namespace {
std::int64_t steady_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

asio::awaitable<limits::LimitVerdict> Session::limit_request(Exchange& ex) {
    limits::LocalLimits& state = *ex.snapshot->limits;
    const std::size_t client = ex.identity.client_index;
    const std::int64_t now = steady_now_ns();
    limits::LimitVerdict verdict = limits::check_replica_limits(state, client, now, ex.in_flight);
    if (verdict.admitted()) {
        if (worker_.rate_store) verdict = co_await shared_rates(ex);
        else verdict = limits::check_local_rates(state, client, now);
    }
    if (!verdict.admitted()) {
        ex.in_flight.release();  // a refused request is not in flight
        ex.limit = verdict.limit;
        limits::append_limit_fields(ex.limit_fields, verdict);
        worker_.metrics.rate_limits.count_refused(ex.snapshot->metric_slot(client), verdict.limit);
    }
    co_return verdict;
}

// The rate buckets in Redis: one script call for the client's and its credential's bucket. When
// Redis fails or is slow (timeout_ms), on_store_failure decides instead.
asio::awaitable<limits::LimitVerdict> Session::shared_rates(Exchange& ex) {
    limits::LocalLimits& state = *ex.snapshot->limits;
    const std::size_t client = ex.identity.client_index;
    if (worker_.rate_calls_of.get() != &state) {
        worker_.rate_calls = std::make_shared<const limits::RedisCallTable>(
            limits::make_redis_rate_calls(*ex.snapshot->config, state));
        worker_.rate_calls_of = ex.snapshot->limits;
    }
    const auto table = worker_.rate_calls;
    const limits::RedisRateCall& call = (*table)[client];
    if (call.args.empty()) co_return limits::LimitVerdict{};  // no rate applies to this client
    const auto started = std::chrono::steady_clock::now();
    const limits::StoreAnswer answer = co_await worker_.rate_store->decide(table, call);
    worker_.metrics.rate_store_duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (answer.reply) co_return limits::verdict_from_reply(state, client, call, *answer.reply);
    worker_.metrics.rate_limits.count_store_failure(answer.failure);
    switch (ex.snapshot->config->rate_limits.on_store_failure) {
        case RateLimitsConfig::OnStoreFailure::local: break;
        case RateLimitsConfig::OnStoreFailure::allow: co_return limits::LimitVerdict{};
        case RateLimitsConfig::OnStoreFailure::deny:
            co_return limits::LimitVerdict{.reason = Reason::rate_store_unavailable, .retry_after_s = 1};
    }
    // This replica's own buckets: N replicas then admit up to N times the rate until Redis is back.
    co_return limits::check_local_rates(state, client, steady_now_ns());
}

void Session::note_upstream_429(Exchange& ex) {
    std::optional<std::string_view> retry_after;
    for (const auto& field : response_.fields)
        if (http::iequals(field.name, "Retry-After")) retry_after = field.value;
    if (!retry_after) return;  // no time to wait for: nothing to hold, the 429 passes through
    const auto wait = limits::parse_retry_after(*retry_after, std::chrono::system_clock::now());
    if (!wait) {
        spdlog::warn("upstream 429 for request {} has an unusable Retry-After; not holding", ex.id.view());
        return;
    }
    limits::LocalLimits& state = *ex.snapshot->limits;
    const std::size_t credential = state.client(ex.identity.client_index).credential;
    const std::int64_t now = steady_now_ns();
    const auto max_hold = std::chrono::nanoseconds(ex.snapshot->config->rate_limits.max_upstream_hold).count();
    limits::hold_credential(state, credential, now, now + wait->count(), max_hold);
    spdlog::info("upstream answered 429 for credential \"{}\": its calls wait {} s", state.credential(credential).name,
                 limits::ceil_seconds(std::min(wait->count(), max_hold)));
}

}  // namespace giosg::server
