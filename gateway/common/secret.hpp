#pragma once
// A server-side credential. The value is reachable only through reveal(), which the upstream
// request writer calls; every formatter (spdlog/fmt, iostream) prints "<redacted>".
#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace giosg {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret& operator=(const Secret&) = default;
    Secret(Secret&&) noexcept = default;
    Secret& operator=(Secret&&) noexcept = default;
    ~Secret() { wipe(); }

    [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

private:
    void wipe() noexcept {
        volatile char* p = value_.data();
        for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
    }
    std::string value_;
};

}  // namespace giosg

template <>
struct fmt::formatter<giosg::Secret> : fmt::formatter<std::string_view> {
    template <typename Ctx>
    auto format(const giosg::Secret&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format("<redacted>", ctx);
    }
};
