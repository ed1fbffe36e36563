#pragma once
// Verified JWTs, by the SHA-256 of the token, until their exp (+ leeway): a token seen before
// costs one hash and one lookup instead of a signature verification. One per worker (no locks);
// bounded; emptied when the client table it was filled from is replaced (a reload).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "common/sha256.hpp"

namespace giosg {

class JwtCache {
public:
    using time_point = std::chrono::system_clock::time_point;
    static constexpr std::size_t kDefaultCapacity = 4096;

    explicit JwtCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    /// The client index a still-valid token verified to, or -1. `generation` is the client
    /// table's: another one empties the cache first.
    std::ptrdiff_t find(std::uint64_t generation, const KeyDigest& token_digest, time_point now) {
        adopt(generation);
        const auto it = entries_.find(token_digest);
        if (it == entries_.end()) return -1;
        if (now >= it->second.valid_until) {
            entries_.erase(it);
            return -1;
        }
        return static_cast<std::ptrdiff_t>(it->second.client);
    }

    void insert(std::uint64_t generation, const KeyDigest& token_digest, std::size_t client, time_point valid_until,
                time_point now) {
        adopt(generation);
        if (entries_.size() >= capacity_) {
            std::erase_if(entries_, [now](const auto& e) { return now >= e.second.valid_until; });
            if (entries_.size() >= capacity_) entries_.clear();  // all live: start over rather than grow
        }
        entries_.insert_or_assign(token_digest, Entry{client, valid_until});
    }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::size_t client = 0;
        time_point valid_until{};
    };
    struct DigestHash {
        std::size_t operator()(const KeyDigest& d) const noexcept {
            std::size_t h = 0;
            std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 is already uniformly spread
            return h;
        }
    };
    void adopt(std::uint64_t generation) {
        if (generation == generation_) return;
        entries_.clear();
        generation_ = generation;
    }

    std::size_t capacity_;
    std::uint64_t generation_ = 0;
    std::unordered_map<KeyDigest, Entry, DigestHash> entries_;
};

}  // namespace giosg
