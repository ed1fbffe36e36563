#pragma once
// X-Request-Id: the one place that decides whether a client's id is kept and makes new ones
// (docs/reference.md §3). No Asio.
#include <cstdint>
#include <string_view>

namespace giosg::http {

/// A client's X-Request-Id is kept when it is 1-128 of [A-Za-z0-9._-]: safe in a header, a log
/// line and a JSON string without escaping.
[[nodiscard]] bool valid_request_id(std::string_view id) noexcept;

/// A request's id, held inline so that an exchange allocates nothing for it.
class RequestId {
public:
    static constexpr std::size_t kMaxSize = 128;
    [[nodiscard]] std::string_view view() const noexcept { return {bytes_, size_}; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    void assign(std::string_view id) noexcept;
    void clear() noexcept { size_ = 0; }

private:
    char bytes_[kMaxSize]{};
    std::size_t size_ = 0;
};

/// 128-bit request ids as 32 hex digits from a per-worker generator (xoshiro256**, seeded from
/// std::random_device): unique, unguessable enough for correlation, and no syscall per request.
class RequestIdGenerator {
public:
    RequestIdGenerator();
    /// Writes 32 hex digits to `out` (which must have room for 32 chars).
    void next(char* out) noexcept;
    /// Gives `id` a new value unless it already has one (the client's).
    void ensure(RequestId& id) noexcept;

private:
    std::uint64_t next64() noexcept;
    std::uint64_t s_[4];
};

}  // namespace giosg::http
