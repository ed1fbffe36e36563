#include "limits/local_limits.hpp"

#include <iterator>

namespace giosg::limits {

GcraDecision take(RateCell& cell, std::int64_t now, const GcraParams& params) noexcept {
    std::int64_t tat = cell.tat.load(std::memory_order_relaxed);
    for (;;) {
        const GcraDecision decision = gcra_decide(tat, now, params);
        if (!decision.allowed) return decision;
        // On failure `tat` is reloaded and the decision made again on what another worker stored.
        if (cell.tat.compare_exchange_weak(tat, decision.new_tat, std::memory_order_relaxed)) return decision;
    }
}

void give_back(RateCell& cell, const GcraParams& params) noexcept {
    cell.tat.fetch_sub(params.emission_ns, std::memory_order_relaxed);
}

bool InFlightSlot::try_take(InFlightCell& cell, std::uint32_t max) noexcept {
    release();
    if (cell.count.fetch_add(1, std::memory_order_relaxed) >= max) {
        cell.count.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    cell_ = &cell;
    return true;
}

void InFlightSlot::release() noexcept {
    if (cell_ != nullptr) cell_->count.fetch_sub(1, std::memory_order_relaxed);
    cell_ = nullptr;
}

void extend_hold(HoldCell& cell, std::int64_t until) noexcept {
    std::int64_t current = cell.until.load(std::memory_order_relaxed);
    while (current < until && !cell.until.compare_exchange_weak(current, until, std::memory_order_relaxed)) {
    }
}

LocalLimits::LocalLimits(const Config& config)
    : client_rate_(config.clients.size()),
      credential_rate_(config.credentials.size()),
      in_flight_(config.clients.size()),
      hold_(config.credentials.size()) {
    for (const auto& [name, credential] : config.credentials) {
        CredentialLimits limits{name, std::nullopt};
        if (credential.rate) {
            limits.rate = GcraParams::from(*credential.rate);
            any_limit_ = true;
        }
        credentials_.push_back(std::move(limits));
    }
    for (const auto& client : config.clients) {
        ClientLimits limits;
        limits.name = client.name;
        if (client.rate) limits.rate = GcraParams::from(*client.rate);
        limits.max_in_flight = client.max_in_flight;
        any_limit_ = any_limit_ || client.rate || client.max_in_flight > 0;
        const auto it = config.credentials.find(client.credential);
        limits.credential = static_cast<std::size_t>(std::distance(config.credentials.begin(), it));
        clients_.push_back(limits);
    }
}

void LocalLimits::carry_over(const LocalLimits& previous) noexcept {
    // Reload happens on one thread; workers may be deciding on `previous` meanwhile, and a
    // decision that lands there after the copy is lost to the new state (one request's worth).
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        for (std::size_t j = 0; j < previous.clients_.size(); ++j) {
            if (previous.clients_[j].name != clients_[i].name) continue;
            client_rate_[i].tat.store(previous.client_rate_[j].tat.load(std::memory_order_relaxed),
                                      std::memory_order_relaxed);
            break;
        }
    }
    for (std::size_t i = 0; i < credentials_.size(); ++i) {
        for (std::size_t j = 0; j < previous.credentials_.size(); ++j) {
            if (previous.credentials_[j].name != credentials_[i].name) continue;
            credential_rate_[i].tat.store(previous.credential_rate_[j].tat.load(std::memory_order_relaxed),
                                          std::memory_order_relaxed);
            hold_[i].until.store(previous.hold_[j].until.load(std::memory_order_relaxed), std::memory_order_relaxed);
            break;
        }
    }
}

}  // namespace giosg::limits
