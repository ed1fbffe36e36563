#pragma once
// One request's state as it passes the stages (docs/architecture.md): each stage reads what the
// earlier ones left and adds its own part. Reset and reused for the next request on the same
// connection, so a keep-alive connection allocates nothing for it in steady state.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/reason.hpp"
#include "http/head.hpp"
#include "http/request_id.hpp"
#include "http/target.hpp"
#include "identity/identify.hpp"
#include "limits/limit.hpp"
#include "policy/decision.hpp"
#include "server/snapshot.hpp"

namespace giosg::server {

struct Exchange {
    using Clock = std::chrono::steady_clock;

    // read
    Clock::time_point started{};
    std::chrono::system_clock::time_point ts{};
    std::shared_ptr<const Snapshot> snapshot;  // kept for the whole exchange, even across a refresh
    http::RequestId id;
    std::string method;            // copies: the head's bytes are gone once the body is read
    std::string path;
    std::string host;              // the Host field as sent, for links onto the gateway (relay)
    bool has_host = false;
    std::size_t head_bytes = 0;
    int version_minor = 1;
    http::BodyKind body_kind = http::BodyKind::none;
    std::uint64_t content_length = 0;
    bool sent_content_length = false;
    bool expect_continue = false;
    bool client_keep_alive = true;
    std::uint32_t dropped_headers = 0;  // '_' fields not forwarded
    // identify, decide
    Identity identity;
    Decision decision;
    // limit: which limit refused (audit, metrics) and the fields of its 429; the client's place
    // among its requests in flight, held until the exchange is reset.
    limits::LimitKind limit = limits::LimitKind::none;
    std::string limit_fields;
    limits::InFlightSlot in_flight;
    // forward, relay: the outcome
    Reason code = Reason::ok;
    std::string_view detail;       // static text for gateway-made errors
    bool forwarded = false;        // policy let it through (the audit's "decision": allow)
    int status = 0;
    std::optional<int> upstream_status;
    std::optional<double> upstream_ms;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    // record
    bool recorded = false;         // the audit record has been submitted
    std::uint8_t audit_room = 0;   // reservations held in the worker's audit ring (record_stage.cpp)

    /// For the next request; the strings keep their capacity.
    void reset() {
        std::string kept_method = std::move(method);
        std::string kept_path = std::move(path);
        std::string kept_host = std::move(host);
        std::string kept_limit_fields = std::move(limit_fields);
        in_flight.release();  // before the snapshot that owns its counter may go
        *this = Exchange{};
        limit_fields = std::move(kept_limit_fields);
        limit_fields.clear();
        method = std::move(kept_method);
        method.clear();
        path = std::move(kept_path);
        path.clear();
        host = std::move(kept_host);
        host.clear();
    }
    [[nodiscard]] bool head_request() const noexcept { return method == "HEAD"; }
    [[nodiscard]] double elapsed_ms() const noexcept {
        return started == Clock::time_point{} ? 0.0
                                              : std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    }
    /// The audit path of a refused target: first the password and query go, then the length.
    void set_refused_path(std::string_view target) {
        constexpr std::size_t kMaxAuditPathBytes = 2048;
        path.clear();
        http::append_audit_target(target, path);
        if (path.size() > kMaxAuditPathBytes) path.resize(kMaxAuditPathBytes);
    }
    /// The request ends without a response: the client left.
    void client_left() noexcept {
        code = Reason::client_closed;
        status = reason_status(Reason::client_closed);
    }
};

}  // namespace giosg::server
