#include "http/request_id.hpp"

#include <algorithm>
#include <random>

#include "common/hex.hpp"

namespace giosg::http {

bool valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > RequestId::kMaxSize) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
}

void RequestId::assign(std::string_view id) noexcept {
    size_ = std::min(id.size(), kMaxSize);
    std::copy_n(id.data(), size_, bytes_);
}

RequestIdGenerator::RequestIdGenerator() {
    std::random_device rd;
    for (auto& s : s_) s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

std::uint64_t RequestIdGenerator::next64() noexcept {
    // xoshiro256** (Blackman & Vigna, 2018).
    const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

void RequestIdGenerator::next(char* out) noexcept {
    for (int half = 0; half < 2; ++half) {
        std::uint64_t v = next64();
        for (int i = 0; i < 16; ++i, v >>= 4) out[half * 16 + i] = hex_digit(static_cast<unsigned>(v));
    }
}

void RequestIdGenerator::ensure(RequestId& id) noexcept {
    if (!id.empty()) return;
    char fresh[32];
    next(fresh);
    id.assign({fresh, sizeof fresh});
}

}  // namespace giosg::http
