#pragma once
// Small I/O building blocks shared by the client side (server/) and the upstream side
// (upstream/): a read buffer that hands out views, and body readers for the three HTTP/1.1
// framings. Everything is awaited with as_tuple so that expected errors are values, not
// exceptions.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "http/head.hpp"

namespace giosg::net {

namespace asio = boost::asio;
using boost::system::error_code;

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Bytes read from a socket and not yet consumed. Views returned by view() stay valid until the
/// next prepare().
class ReadBuffer {
public:
    [[nodiscard]] std::string_view view() const noexcept {
        return std::string_view(data_).substr(begin_, end_ - begin_);
    }
    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ >= end_) begin_ = end_ = 0;
    }
    /// Space for at least `min_free` more bytes after the unconsumed ones (moves them to the front).
    asio::mutable_buffer prepare(std::size_t min_free) {
        if (begin_ > 0) {
            data_.replace(0, end_ - begin_, data_, begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (data_.size() - end_ < min_free) data_.resize(end_ + min_free);
        return asio::buffer(data_.data() + end_, data_.size() - end_);
    }
    void commit(std::size_t n) noexcept { end_ += n; }
    void clear() noexcept { begin_ = end_ = 0; }
    /// Releases memory beyond `keep` bytes when empty (after a large body).
    void shrink(std::size_t keep) {
        if (empty() && data_.size() > keep) {
            data_.resize(keep);
            data_.shrink_to_fit();
        }
    }

private:
    std::string data_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

enum class BodyError : std::uint8_t { none, io, eof, bad_framing, too_large };

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
