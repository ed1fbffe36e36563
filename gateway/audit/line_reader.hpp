#pragma once
// Reading an audit file line by line through a fixed buffer, so that `audit verify` holds at most
// one line (kMaxAuditLineBytes, audit/verify.hpp) in memory whatever the file's size.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace giosg::audit {

class LineReader {
public:
    enum class Next { line, torn, too_long, end, error };

    explicit LineReader(const std::filesystem::path& file);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// The errno of the failed open or read.
    [[nodiscard]] int error() const noexcept { return error_; }
    /// Bytes consumed so far: the file's size once next() returned end or torn.
    [[nodiscard]] std::uint64_t bytes_read() const noexcept { return bytes_read_; }

    /// The next line, without its '\n', into `line`. `torn`: the file ends with `line` and no
    /// '\n'. `too_long`: the line is longer than kMaxAuditLineBytes (reading stops there).
    Next next(std::string& line);

private:
    bool fill();

    int fd_;
    int error_ = 0;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t bytes_read_ = 0;
};

}  // namespace giosg::audit
