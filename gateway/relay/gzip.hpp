#pragma once
// gzip (RFC 1952) for the body rewriter, on zlib: inflating a response that arrives in pieces,
// with the inflated size bounded (a small gzip body can inflate to gigabytes), and deflating a
// rewritten body back so that it keeps its Content-Encoding.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace giosg::relay {

enum class InflateStatus {
    ok,         // fine so far
    too_large,  // the inflated size would exceed the limit
    corrupt,    // not gzip, a bad checksum, bytes after the end, or (finish) cut short
};

class GzipInflater {
public:
    /// Inflates at most `max_output` bytes in all.
    explicit GzipInflater(std::size_t max_output);
    ~GzipInflater();
    GzipInflater(const GzipInflater&) = delete;
    GzipInflater& operator=(const GzipInflater&) = delete;

    /// Inflates the next piece of gzip data (any size, split anywhere), appending the output to
    /// `out`. Several gzip members one after another are one body (as `gzip -d` reads them). A
    /// status other than ok is final: later calls return it and do nothing.
    InflateStatus feed(std::string_view piece, std::string& out);
    /// ok when what was fed ended exactly at the end of a gzip member; corrupt otherwise
    /// (including nothing fed at all).
    InflateStatus finish();

    std::size_t total_out() const noexcept { return total_out_; }

private:
    struct Stream;
    std::unique_ptr<Stream> stream_;
    std::size_t max_output_;
    std::size_t total_out_ = 0;
    bool member_ended_ = false;  // the last member's trailer was read
    InflateStatus status_ = InflateStatus::ok;
};

class GzipDeflater {
public:
    /// zlib level: -1 default (6), 0 store … 9 best. Throws std::bad_alloc when zlib cannot start.
    explicit GzipDeflater(int level = -1);
    ~GzipDeflater();
    GzipDeflater(const GzipDeflater&) = delete;
    GzipDeflater& operator=(const GzipDeflater&) = delete;

    /// Compresses the next piece, appending whatever output zlib has ready to `out`.
    void feed(std::string_view piece, std::string& out);
    /// Flushes the rest and the gzip trailer into `out`; no feed after it.
    void finish(std::string& out);

private:
    struct Stream;
    std::unique_ptr<Stream> stream_;
};

/// One-shot GzipDeflater.
std::string gzip_compress(std::string_view data, int level = -1);

}  // namespace giosg::relay
