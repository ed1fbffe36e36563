// Idle keep-alive connections parked without a session (server/parked.hpp): served again on the
// same connection when they speak, closed at idle_timeout_ms or when draining, and counted.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "admin/metrics.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

HarnessOptions idle_for(int idle_timeout_ms) {
    HarnessOptions o;
    o.policy_source = "file";
    o.limits_json = R"("idle_timeout_ms": )" + std::to_string(idle_timeout_ms);
    return o;
}

std::string get_me(const std::string& id) {
    return std::string("GET /api/v5/users/me HTTP/1.1\r\nHost: gw\r\nX-Request-Id: ") + id +
           "\r\nAuthorization: Token " + kKeyFull + "\r\n\r\n";
}

/// One request on `c`, answered 200.
void expect_served(RawConnection& c, const std::string& id) {
    c.send(get_me(id));
    const auto r = c.read_response();
    ASSERT_TRUE(r) << id << ": no answer";
    EXPECT_EQ(r->status, 200) << id;
}

std::uint64_t parked(Harness& h) { return h.metrics().shard(0).connections_parked.load(); }
std::uint64_t accepted(Harness& h) { return h.metrics().shard(0).connections_accepted.load(); }
std::uint64_t closed(Harness& h) { return h.metrics().shard(0).connections_closed.load(); }

/// Waits until `value()` equals `want`; false after `timeout`.
template <typename F>
bool wait_for(F value, std::uint64_t want, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (value() != want) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

TEST(ParkedConnections, AnIdleKeptAliveConnectionIsParkedAndServedAgainOnTheSameConnection) {
    Harness h(idle_for(10000));
    RawConnection c(h.port());
    expect_served(c, "park-1");
    EXPECT_EQ(parked(h), 0u) << "parked at once: it should wait a second with its session first";
    ASSERT_TRUE(wait_for([&] { return parked(h); }, 1u)) << "not parked after idling";
    expect_served(c, "park-2");
    EXPECT_EQ(parked(h), 0u);
    // One connection all along: accepted once, never closed, and both requests audited.
    EXPECT_EQ(accepted(h), 1u);
    EXPECT_EQ(closed(h), 0u);
    const auto records = h.audit_records(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].at("request_id"), "park-1");
    EXPECT_EQ(records[1].at("request_id"), "park-2");
    EXPECT_EQ(records[0].at("remote"), records[1].at("remote")) << "the parked connection lost its address";
    // Parked a second time, and it still works.
    ASSERT_TRUE(wait_for([&] { return parked(h); }, 1u));
    expect_served(c, "park-3");
}

TEST(ParkedConnections, AParkedConnectionIsClosedWhenIdleTimeoutEndsCountingFromTheLastResponse) {
    Harness h(idle_for(1800));
    RawConnection c(h.port());
    c.send(get_me("timeout-1"));
    ASSERT_TRUE(c.read_response());
    const auto answered = Clock::now();
    ASSERT_TRUE(wait_for([&] { return parked(h); }, 1u));
    EXPECT_TRUE(c.closed_by_peer(5s));
    const auto idled = Clock::now() - answered;
    EXPECT_GE(idled, 1700ms) << "closed before idle_timeout_ms";
    EXPECT_LT(idled, 3000ms) << "idle_timeout_ms not kept while parked";
    EXPECT_TRUE(wait_for([&] { return closed(h); }, 1u));
    EXPECT_EQ(parked(h), 0u);
}

TEST(ParkedConnections, AShortIdleTimeoutNeverParks) {
    Harness h(idle_for(800));
    RawConnection c(h.port());
    c.send(get_me("short-1"));
    ASSERT_TRUE(c.read_response());
    EXPECT_TRUE(c.closed_by_peer(3s));
    EXPECT_EQ(parked(h), 0u);
    EXPECT_TRUE(wait_for([&] { return closed(h); }, 1u));
}

TEST(ParkedConnections, AConnectionThatPipelinedKeepsItsSession) {
    Harness h(idle_for(10000));
    RawConnection c(h.port());
    c.send(get_me("pipe-1") + get_me("pipe-2"));
    ASSERT_TRUE(c.read_response());
    ASSERT_TRUE(c.read_response());
    // What the session knows about a pipelining client would be lost with it.
    EXPECT_FALSE(wait_for([&] { return parked(h); }, 1u, 1500ms));
    expect_served(c, "pipe-3");
}

TEST(ParkedConnections, AClientThatLeavesWhileParkedIsCountedClosed) {
    Harness h(idle_for(10000));
    {
        RawConnection c(h.port());
        c.send(get_me("leave-1"));
        ASSERT_TRUE(c.read_response());
        ASSERT_TRUE(wait_for([&] { return parked(h); }, 1u));
    }
    EXPECT_TRUE(wait_for([&] { return closed(h); }, 1u)) << "a client's FIN did not end its parked connection";
    EXPECT_EQ(parked(h), 0u);
    EXPECT_EQ(h.audit_records(1, 300ms).size(), 1u) << "leaving is no request: no record";
}

TEST(ParkedConnections, ManyParkedConnectionsAreServedAgainAndClosedAtOnceWhenDraining) {
    HarnessOptions o = idle_for(60000);
    o.drain = 10s;
    auto h = std::make_unique<Harness>(o);
    constexpr int kConnections = 40;
    std::vector<std::unique_ptr<RawConnection>> connections;
    for (int i = 0; i < kConnections; ++i) {
        connections.push_back(std::make_unique<RawConnection>(h->port()));
        connections.back()->send(get_me("many-" + std::to_string(i)));
        ASSERT_TRUE(connections.back()->read_response());
    }
    ASSERT_TRUE(wait_for([&] { return parked(*h); }, kConnections));
    // Half of them speak again: served; the other half stay parked.
    for (int i = 0; i < kConnections; i += 2) {
        connections[i]->send(get_me("again-" + std::to_string(i)));
        const auto r = connections[i]->read_response();
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(accepted(*h), static_cast<std::uint64_t>(kConnections));
    const auto stopping = Clock::now();
    h->stop();
    EXPECT_LT(Clock::now() - stopping, 1s) << "parked or idle connections held the drain";
    for (auto& c : connections) EXPECT_TRUE(c->closed_by_peer(2s));
}

}  // namespace
}  // namespace giosg::testing
