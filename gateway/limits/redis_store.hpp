#pragma once
// The shared rate store (docs/reference.md, "Rate limits", store "redis"): one connection per
// worker, driven by the worker's io_context (redis_asio.hpp), one EVALSHA of the GCRA script
// (redis_script.hpp) per decision, pipelined (hiredis writes each command at once and matches
// replies in order), each decision bounded by timeout_ms. A Redis that is down or slow never
// holds a request longer than that: the caller then applies on_store_failure. The connection
// is re-made by itself with a growing pause; a Redis that is down at start-up stops nothing.
// This and redis_asio are the only parts of limits/ that do I/O (they live in the core library).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.hpp"
#include "limits/limit.hpp"
#include "limits/redis_script.hpp"

struct redisAsyncContext;

namespace giosg::limits {

/// The calls of one config (per client), shared with the decisions still waiting for a reply.
using RedisCallTable = std::vector<RedisRateCall>;

struct StoreAnswer {
    std::optional<ScriptReply> reply;   // set: Redis decided
    StoreFailure failure = StoreFailure::error;
};

class RedisStore {
public:
    RedisStore(boost::asio::io_context& ioc, RateLimitsConfig config, std::string worker_name);
    ~RedisStore();
    RedisStore(const RedisStore&) = delete;
    RedisStore& operator=(const RedisStore&) = delete;

    /// Starts connecting (never blocks; a failure only schedules the next attempt).
    void start();
    /// No more reconnects; decisions waiting get their failure now. The io_context then has no
    /// work left from the store (a draining worker can stop).
    void close();
    [[nodiscard]] bool connected() const noexcept { return state_ == State::ready; }

    /// One decision for `call` (from `table`, which a reply arriving late still needs).
    boost::asio::awaitable<StoreAnswer> decide(std::shared_ptr<const RedisCallTable> table, const RedisRateCall& call);

private:
    enum class State : unsigned char { idle, resolving, connecting, ready, closed };
    struct Pending;

    void connect();
    boost::asio::awaitable<void> resolve_and_connect();
    void on_connected(int status);
    void on_disconnected();
    void connect_failed(std::string_view what, std::string_view why);
    void schedule_reconnect();
    void send(Pending& pending, bool by_sha);
    Pending* acquire();
    void release(Pending* pending);
    static void on_reply(redisAsyncContext* context, void* reply, void* privdata);
    static void on_setup_reply(redisAsyncContext* context, void* reply, void* privdata);

    boost::asio::io_context& ioc_;
    RateLimitsConfig config_;
    std::string name_;           // "worker N", for logs
    State state_ = State::idle;
    redisAsyncContext* context_ = nullptr;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer reconnect_timer_;
    boost::asio::steady_timer connect_timer_;   // bounds one connection attempt
    std::chrono::milliseconds backoff_{0};
    bool was_connected_ = false;  // for one log line per outage, not one per attempt
    unsigned timeouts_in_a_row_ = 0;  // decisions unanswered since the last reply
    std::size_t in_flight_ = 0;
    std::vector<std::unique_ptr<Pending>> free_;  // reused: a decision allocates nothing in steady state
    std::shared_ptr<bool> alive_;                 // false once destroyed: for the resolve coroutine
};

}  // namespace giosg::limits
