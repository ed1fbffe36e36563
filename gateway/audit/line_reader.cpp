#include "audit/line_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "audit/verify.hpp"

namespace giosg::audit {

LineReader::LineReader(const std::filesystem::path& file)
    : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)), buffer_(std::size_t{64} << 10) {
    if (fd_ < 0) error_ = errno;
}

LineReader::~LineReader() {
    if (fd_ >= 0) ::close(fd_);
}

LineReader::Next LineReader::next(std::string& line) {
    line.clear();
    for (;;) {
        if (error_ != 0) return Next::error;
        if (begin_ == end_ && !fill()) {
            if (error_ != 0) return Next::error;
            return line.empty() ? Next::end : Next::torn;
        }
        const char* start = buffer_.data() + begin_;
        const auto available = end_ - begin_;
        const auto* newline = static_cast<const char*>(std::memchr(start, '\n', available));
        const auto length = newline != nullptr ? static_cast<std::size_t>(newline - start) : available;
        if (line.size() + length > kMaxAuditLineBytes) return Next::too_long;
        line.append(start, length);
        const auto consumed = length + (newline != nullptr ? 1 : 0);
        begin_ += consumed;
        bytes_read_ += consumed;
        if (newline != nullptr) return Next::line;
    }
}

bool LineReader::fill() {
    for (;;) {
        const auto n = ::read(fd_, buffer_.data(), buffer_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error_ = errno;
            return false;
        }
        begin_ = 0;
        end_ = static_cast<std::size_t>(n);
        return n > 0;
    }
}

}  // namespace giosg::audit
