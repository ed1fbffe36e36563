#include <algorithm>

#include "common/hex.hpp"
#include "http/chars.hpp"
#include "http/head.hpp"

namespace giosg::http {

namespace {
// 16 hex digits are 64 bits: a longer chunk-size (leading zeros included) is refused rather than
// checked for overflow.
constexpr std::size_t kMaxSizeDigits = 16;
}  // namespace

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view input) noexcept {
    std::size_t i = 0;
    const auto fail = [&] {
        state_ = State::failed;
        return Step{Status::error, i, {}};
    };
    // Extension and trailer bytes share one budget (see the class comment).
    const auto over_budget = [&] { return ++trailer_bytes_ > max_trailer_bytes_; };

    while (i < input.size()) {
        const char c = input[i];
        switch (state_) {
            case State::size:
                if (const int digit = hex_digit_value(c); digit >= 0) {
                    if (size_digits_ == kMaxSizeDigits) return fail();
                    remaining_ = (remaining_ << 4) | static_cast<std::uint64_t>(digit);
                    ++size_digits_;
                } else if (size_digits_ == 0) {
                    return fail();
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else if (c == ';') {
                    state_ = State::ext;
                } else if (chars::is_ows(c)) {
                    state_ = State::size_lws;
                } else {
                    return fail();
                }
                break;
            case State::size_lws:  // BWS is only allowed before a chunk-ext (RFC 9112 §7.1.1)
                if (c == ';') {
                    state_ = State::ext;
                } else if (!chars::is_ows(c) || over_budget()) {
                    return fail();
                }
                break;
            case State::ext:
                if (c == '\r') {
                    state_ = State::size_lf;
                } else if (!chars::is_field_byte(c) || over_budget()) {
                    return fail();
                }
                break;
            case State::size_lf:
                if (c != '\n') return fail();
                size_digits_ = 0;
                state_ = remaining_ == 0 ? State::trailer_start : State::data;
                break;
            case State::data: {
                const auto run = static_cast<std::size_t>(
                    std::min<std::uint64_t>(remaining_, input.size() - i));
                const std::string_view data = input.substr(i, run);
                remaining_ -= run;
                i += run;
                if (remaining_ == 0) state_ = State::data_cr;
                return Step{Status::need_more, i, data};
            }
            case State::data_cr:
                if (c != '\r') return fail();
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') return fail();
                state_ = State::size;
                break;
            case State::trailer_start:
                if (c == '\r') {
                    state_ = State::final_lf;
                } else if (chars::is_tchar(c) && !over_budget()) {
                    state_ = State::trailer_name;
                } else {
                    return fail();  // obs-fold, bare LF, empty name, or too many bytes
                }
                break;
            case State::trailer_name:
                if (over_budget()) return fail();
                if (c == ':') {
                    state_ = State::trailer_value;
                } else if (!chars::is_tchar(c)) {
                    return fail();  // whitespace before the colon included
                }
                break;
            case State::trailer_value:
                if (over_budget()) return fail();
                if (c == '\r') {
                    state_ = State::trailer_lf;
                } else if (!chars::is_field_byte(c)) {
                    return fail();
                }
                break;
            case State::trailer_lf:
                if (c != '\n' || over_budget()) return fail();
                state_ = State::trailer_start;
                break;
            case State::final_lf:
                if (c != '\n') return fail();
                state_ = State::done;
                return Step{Status::done, i + 1, {}};
            case State::done:
                return Step{Status::done, i, {}};
            case State::failed:
                return Step{Status::error, i, {}};
        }
        ++i;
    }
    switch (state_) {
        case State::done: return Step{Status::done, i, {}};
        case State::failed: return Step{Status::error, i, {}};
        default: return Step{Status::need_more, i, {}};
    }
}

void ChunkedDecoder::reset() noexcept {
    state_ = State::size;
    remaining_ = 0;
    size_digits_ = 0;
    trailer_bytes_ = 0;
}

}  // namespace giosg::http
