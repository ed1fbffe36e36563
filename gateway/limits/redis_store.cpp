#include "limits/redis_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <array>
#include <string_view>

#include "limits/redis_asio.hpp"
#include "net/io.hpp"

namespace giosg::limits {

namespace asio = boost::asio;
using net::use_nothrow;

namespace {
constexpr std::size_t kMaxPendingDecisions = 4096;            // per worker; beyond: a failure at once
constexpr std::chrono::milliseconds kConnectTimeout{1000};    // one connection attempt
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::size_t kMaxArgs = 16;
// A connection that answers nothing for this many decisions in a row is dropped and made again:
// a Redis behind a dead network path can leave TCP silent for minutes.
constexpr unsigned kReconnectAfterTimeouts = 16;

bool integer_reply(const redisReply* reply) { return reply != nullptr && reply->type == REDIS_REPLY_INTEGER; }
}  // namespace

struct RedisStore::Pending {
    explicit Pending(RedisStore& owner) : store(&owner), timer(owner.ioc_) {}
    RedisStore* store;
    asio::steady_timer timer;                      // the decision's deadline; cancelled by the reply
    std::shared_ptr<const RedisCallTable> table;   // keeps `call` alive for a late reply
    const RedisRateCall* call = nullptr;
    bool done = false;
    bool abandoned = false;                        // the decision timed out and went on without it
    bool retried_with_eval = false;
    StoreAnswer answer;
};

RedisStore::RedisStore(asio::io_context& ioc, RateLimitsConfig config, std::string worker_name)
    : ioc_(ioc),
      config_(std::move(config)),
      name_(std::move(worker_name)),
      resolver_(ioc),
      reconnect_timer_(ioc),
      connect_timer_(ioc),
      alive_(std::make_shared<bool>(true)) {}

RedisStore::~RedisStore() {
    close();
    *alive_ = false;
}

void RedisStore::start() {
    if (state_ == State::idle) connect();
}

void RedisStore::close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    reconnect_timer_.cancel();
    connect_timer_.cancel();
    resolver_.cancel();
    if (context_ != nullptr) {
        // Every command still waiting gets its callback now, with no reply.
        redisAsyncContext* context = std::exchange(context_, nullptr);
        redisAsyncFree(context);
    }
}

void RedisStore::connect() {
    state_ = State::resolving;
    asio::co_spawn(ioc_, resolve_and_connect(), asio::detached);
}

asio::awaitable<void> RedisStore::resolve_and_connect() {
    const auto alive = alive_;
    const RedisAddress& address = *config_.redis;
    // Resolved by Asio, not by hiredis: its connect would call getaddrinfo on the worker's thread.
    auto [ec, results] = co_await resolver_.async_resolve(address.host, std::to_string(address.port), use_nothrow);
    if (!*alive || state_ == State::closed) co_return;
    if (ec || results.empty()) {
        connect_failed("cannot resolve the Redis host", ec ? ec.message() : "no address");
        co_return;
    }
    const auto endpoint = results.begin()->endpoint();
    redisAsyncContext* context = redisAsyncConnect(endpoint.address().to_string().c_str(), address.port);
    if (context == nullptr || context->err != 0) {
        const std::string why = context != nullptr && context->errstr != nullptr ? context->errstr : "out of memory";
        if (context != nullptr) redisAsyncFree(context);
        connect_failed("cannot connect to Redis", why);
        co_return;
    }
    context_ = context;
    context->data = this;
    RedisAsioAdapter::attach(ioc_, context);
    redisAsyncSetDisconnectCallback(context, [](const redisAsyncContext* c, int /*status*/) {
        static_cast<RedisStore*>(c->data)->on_disconnected();
    });
    state_ = State::connecting;
    // Setting the connect callback asks for the first write readiness: that is the connect.
    redisAsyncSetConnectCallback(context, [](const redisAsyncContext* c, int status) {
        static_cast<RedisStore*>(c->data)->on_connected(status);
    });
    connect_timer_.expires_after(kConnectTimeout);
    connect_timer_.async_wait([this, alive](const boost::system::error_code& wait_error) {
        if (!*alive || wait_error || state_ != State::connecting || context_ == nullptr) return;
        redisAsyncFree(std::exchange(context_, nullptr));  // no callbacks for a connection never made
        connect_failed("cannot connect to Redis", "no connection within 1 s");
    });
}

void RedisStore::on_connected(int status) {
    connect_timer_.cancel();
    if (status != REDIS_OK) {
        // hiredis frees the context after this callback.
        const std::string why = context_ != nullptr && context_->errstr != nullptr ? context_->errstr : "error";
        context_ = nullptr;
        connect_failed("cannot connect to Redis", why);
        return;
    }
    state_ = State::ready;
    backoff_ = std::chrono::milliseconds(0);
    spdlog::info("rate store ({}): connected to Redis", name_);
    was_connected_ = true;
    // Pipelined ahead of any decision: Redis answers in order, so none runs before these.
    const RedisAddress& address = *config_.redis;
    if (address.password) {
        const std::string_view password = address.password->reveal();
        std::array<const char*, 2> argv = {"AUTH", password.data()};
        std::array<std::size_t, 2> lengths = {4, password.size()};
        redisAsyncCommandArgv(context_, &RedisStore::on_setup_reply, nullptr, 2, argv.data(), lengths.data());
    }
    if (address.db != 0) {
        const std::string db = std::to_string(address.db);
        std::array<const char*, 2> argv = {"SELECT", db.c_str()};
        std::array<std::size_t, 2> lengths = {6, db.size()};
        redisAsyncCommandArgv(context_, &RedisStore::on_setup_reply, nullptr, 2, argv.data(), lengths.data());
    }
    const std::string_view script = gcra_script();
    std::array<const char*, 3> argv = {"SCRIPT", "LOAD", script.data()};
    std::array<std::size_t, 3> lengths = {6, 4, script.size()};
    redisAsyncCommandArgv(context_, &RedisStore::on_setup_reply, nullptr, 3, argv.data(), lengths.data());
}

void RedisStore::on_setup_reply(redisAsyncContext* context, void* reply, void* /*privdata*/) {
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr || r->type != REDIS_REPLY_ERROR) return;
    auto* store = static_cast<RedisStore*>(context->data);
    // The reply text is Redis's ("WRONGPASS ..."), never the password.
    spdlog::error("rate store ({}): Redis refused the connection setup: {}", store->name_,
                  std::string_view(r->str, r->len));
    redisAsyncDisconnect(context);
}

void RedisStore::connect_failed(std::string_view what, std::string_view why) {
    // One line when an outage starts (or at start-up), not one per attempt every 2 s.
    if (was_connected_ || backoff_ == std::chrono::milliseconds(0))
        spdlog::warn("rate store ({}): {}: {}; on_store_failure applies, retrying", name_, what, why);
    was_connected_ = false;
    schedule_reconnect();
}

void RedisStore::on_disconnected() {
    // hiredis frees the context after this callback; commands waiting got their null replies.
    context_ = nullptr;
    if (state_ == State::closed) return;
    spdlog::warn("rate store ({}): lost the Redis connection; on_store_failure applies until it is back", name_);
    was_connected_ = false;
    schedule_reconnect();
}

void RedisStore::schedule_reconnect() {
    if (state_ == State::closed) return;
    state_ = State::idle;
    backoff_ = backoff_ == std::chrono::milliseconds(0) ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    reconnect_timer_.expires_after(backoff_);
    reconnect_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!*alive || ec || state_ != State::idle) return;
        connect();
    });
}

RedisStore::Pending* RedisStore::acquire() {
    if (free_.empty()) free_.push_back(std::make_unique<Pending>(*this));
    Pending* pending = free_.back().release();
    free_.pop_back();
    ++in_flight_;
    return pending;
}

void RedisStore::release(Pending* pending) {
    --in_flight_;
    pending->table.reset();
    pending->call = nullptr;
    free_.emplace_back(pending);
}

void RedisStore::send(Pending& pending, bool by_sha) {
    const auto& args = pending.call->args;
    std::array<const char*, kMaxArgs> argv{};
    std::array<std::size_t, kMaxArgs> lengths{};
    const std::size_t argc = std::min(args.size(), kMaxArgs);
    for (std::size_t i = 0; i < argc; ++i) {
        argv[i] = args[i].data();
        lengths[i] = args[i].size();
    }
    if (!by_sha) {
        argv[0] = "EVAL";
        lengths[0] = 4;
        argv[1] = gcra_script().data();
        lengths[1] = gcra_script().size();
    }
    if (context_ == nullptr ||
        redisAsyncCommandArgv(context_, &RedisStore::on_reply, &pending, static_cast<int>(argc), argv.data(),
                              lengths.data()) != REDIS_OK) {
        pending.answer = StoreAnswer{std::nullopt, StoreFailure::disconnected};
        pending.done = true;
        pending.timer.cancel();
    }
}

void RedisStore::on_reply(redisAsyncContext* /*context*/, void* reply_ptr, void* privdata) {
    auto* pending = static_cast<Pending*>(privdata);
    RedisStore& store = *pending->store;
    const auto* reply = static_cast<const redisReply*>(reply_ptr);
    if (reply != nullptr) store.timeouts_in_a_row_ = 0;
    if (pending->abandoned) {
        store.release(pending);
        return;
    }
    StoreAnswer answer{std::nullopt, StoreFailure::error};
    if (reply == nullptr) {
        answer.failure = StoreFailure::disconnected;
    } else if (reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str, reply->len).starts_with("NOSCRIPT") &&
               !pending->retried_with_eval) {
        // Redis lost its script cache (a restart, SCRIPT FLUSH): EVAL sends the source and caches it again.
        pending->retried_with_eval = true;
        store.send(*pending, false);
        return;
    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && integer_reply(reply->element[0]) &&
               integer_reply(reply->element[1]) && integer_reply(reply->element[2])) {
        answer.reply = ScriptReply{reply->element[0]->integer, reply->element[1]->integer, reply->element[2]->integer};
    } else if (reply->type == REDIS_REPLY_ERROR) {
        spdlog::debug("rate store ({}): Redis error reply: {}", store.name_, std::string_view(reply->str, reply->len));
    }
    pending->answer = answer;
    pending->done = true;
    pending->timer.cancel();
}

asio::awaitable<StoreAnswer> RedisStore::decide(std::shared_ptr<const RedisCallTable> table, const RedisRateCall& call) {
    if (state_ != State::ready || context_ == nullptr) co_return StoreAnswer{std::nullopt, StoreFailure::disconnected};
    if (in_flight_ >= kMaxPendingDecisions) co_return StoreAnswer{std::nullopt, StoreFailure::timeout};
    Pending* pending = acquire();
    pending->table = std::move(table);
    pending->call = &call;
    pending->done = false;
    pending->abandoned = false;
    pending->retried_with_eval = false;
    pending->timer.expires_after(config_.timeout);
    send(*pending, true);
    if (!pending->done) co_await pending->timer.async_wait(use_nothrow);
    if (pending->done) {
        const StoreAnswer answer = pending->answer;
        release(pending);
        co_return answer;
    }
    // The reply, when it comes, finds the decision gone and returns the slot.
    pending->abandoned = true;
    if (++timeouts_in_a_row_ >= kReconnectAfterTimeouts && context_ != nullptr && state_ == State::ready) {
        spdlog::warn("rate store ({}): Redis has not answered {} decisions in a row; reconnecting", name_,
                     timeouts_in_a_row_);
        timeouts_in_a_row_ = 0;
        // Not redisAsyncDisconnect: that waits for the replies that do not come. Every waiting
        // command gets its callback (no reply) now, and on_disconnected schedules the reconnect.
        redisAsyncFree(context_);
    }
    co_return StoreAnswer{std::nullopt, StoreFailure::timeout};
}

}  // namespace giosg::limits
