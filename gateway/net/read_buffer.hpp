#pragma once
// The bytes read from a socket and not yet consumed, for the client side (server/) and the
// upstream side (upstream/).
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace giosg::net {

namespace asio = boost::asio;

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

}  // namespace giosg::net
