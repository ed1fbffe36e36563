#pragma once
// Reading an HTTP/1.1 message body in its three framings (Content-Length, chunked, until the
// connection closes) from any stream, for request bodies (server/) and response bodies
// (upstream/, relay). The framing rules themselves are http/'s; this is their I/O.
#include <cstdint>
#include <string_view>
#include <utility>

#include "http/head.hpp"
#include "net/io.hpp"
#include "net/read_buffer.hpp"

namespace giosg::net {

enum class BodyError : std::uint8_t { none, io, eof, bad_framing };

/// Reads a message body piece by piece from `stream` (anything with
/// `awaitable<std::size_t> read_some(asio::mutable_buffer, error_code&)`) through `buffer`.
template <typename Stream>
class BodyReader {
public:
    BodyReader(Stream& stream, ReadBuffer& buffer, http::BodyKind kind, std::uint64_t content_length,
               std::size_t read_size = 65536)
        : stream_(stream), buffer_(buffer), kind_(kind), remaining_(content_length), read_size_(read_size) {
        done_ = kind == http::BodyKind::none ||
                (kind == http::BodyKind::content_length && content_length == 0);
    }

    [[nodiscard]] bool done() const noexcept { return done_; }
    /// Consumes the piece handed out last; call once after the final next().
    void settle() noexcept { buffer_.consume(std::exchange(consume_next_, 0)); }
    [[nodiscard]] BodyError error() const noexcept { return error_; }
    [[nodiscard]] const error_code& io_error() const noexcept { return io_error_; }

    /// The next piece of decoded body; empty when done() or on error. Valid until the next call.
    asio::awaitable<std::string_view> next() {
        settle();  // the view handed out by the previous call is consumed only now
        while (!done_ && error_ == BodyError::none) {
            if (buffer_.empty()) {
                if (!co_await fill()) co_return std::string_view{};
                continue;
            }
            switch (kind_) {
                case http::BodyKind::content_length: {
                    const auto avail = buffer_.view();
                    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(avail.size(), remaining_));
                    remaining_ -= n;
                    done_ = remaining_ == 0;
                    consume_next_ = n;
                    co_return avail.substr(0, n);
                }
                case http::BodyKind::chunked: {
                    const auto step = decoder_.feed(buffer_.view());
                    if (step.status == http::ChunkedDecoder::Status::error) {
                        error_ = BodyError::bad_framing;
                        co_return std::string_view{};
                    }
                    done_ = step.status == http::ChunkedDecoder::Status::done;
                    if (!step.data.empty()) {
                        consume_next_ = step.consumed;
                        co_return step.data;
                    }
                    buffer_.consume(step.consumed);
                    break;
                }
                case http::BodyKind::until_close: {
                    const auto avail = buffer_.view();
                    consume_next_ = avail.size();
                    co_return avail;
                }
                case http::BodyKind::none:
                    done_ = true;
                    break;
            }
        }
        co_return std::string_view{};
    }

private:
    asio::awaitable<bool> fill() {
        error_code ec;
        const auto n = co_await stream_.read_some(buffer_.prepare(read_size_), ec);
        buffer_.commit(n);
        if (n > 0) co_return true;
        if (kind_ == http::BodyKind::until_close && (ec == asio::error::eof || is_tls_truncation(ec))) {
            done_ = true;  // the body ends where the connection does
            co_return false;
        }
        io_error_ = ec;
        error_ = ec == asio::error::eof ? BodyError::eof : BodyError::io;
        co_return false;
    }

    static bool is_tls_truncation(const error_code& ec) noexcept;

    Stream& stream_;
    ReadBuffer& buffer_;
    http::BodyKind kind_;
    std::uint64_t remaining_;
    std::size_t read_size_;
    std::size_t consume_next_ = 0;
    http::ChunkedDecoder decoder_;
    bool done_ = false;
    BodyError error_ = BodyError::none;
    error_code io_error_;
};

/// ssl::error::stream_truncated: the peer closed TCP without close_notify. For a body framed by
/// the connection's end that is the only end there is, so it is not an error there.
bool tls_stream_truncated(const error_code& ec) noexcept;

template <typename Stream>
bool BodyReader<Stream>::is_tls_truncation(const error_code& ec) noexcept {
    return tls_stream_truncated(ec);
}

}  // namespace giosg::net
