#include "relay/gzip.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <new>

#include <zlib.h>

namespace giosg::relay {

namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper (not zlib, not raw)
constexpr std::size_t kChunk = 16 * 1024;
// zlib counts in uInt; a larger piece is fed in slices.
constexpr std::size_t kMaxSlice = std::numeric_limits<uInt>::max();

// zlib's API takes non-const input pointers but never writes through them.
Bytef* input_bytes(const char* data) { return reinterpret_cast<Bytef*>(const_cast<char*>(data)); }

}  // namespace

struct GzipInflater::Stream {
    Stream() {
        if (inflateInit2(&z, kGzipWindowBits) != Z_OK) throw std::bad_alloc();
    }
    ~Stream() { inflateEnd(&z); }
    z_stream z{};
};

GzipInflater::GzipInflater(std::size_t max_output) : stream_(std::make_unique<Stream>()), max_output_(max_output) {}
GzipInflater::~GzipInflater() = default;

InflateStatus GzipInflater::feed(std::string_view piece, std::string& out) {
    z_stream& z = stream_->z;
    std::array<char, kChunk> buffer;
    while (status_ == InflateStatus::ok && !piece.empty()) {
        if (member_ended_) {
            // Another member follows; it must be gzip too (inflateReset keeps the wrapper).
            if (inflateReset(&z) != Z_OK) return status_ = InflateStatus::corrupt;
            member_ended_ = false;
        }
        const std::size_t slice = std::min(piece.size(), kMaxSlice);
        z.next_in = input_bytes(piece.data());
        z.avail_in = static_cast<uInt>(slice);
        int rc = Z_OK;
        // Inflate until this slice is used up or the member ends; zlib may keep output pending
        // with avail_in already 0, hence also loop while it filled the whole buffer.
        do {
            z.next_out = reinterpret_cast<Bytef*>(buffer.data());
            z.avail_out = static_cast<uInt>(buffer.size());
            rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return status_ = InflateStatus::corrupt;
            const std::size_t produced = buffer.size() - z.avail_out;
            if (produced > max_output_ - total_out_) return status_ = InflateStatus::too_large;
            out.append(buffer.data(), produced);
            total_out_ += produced;
            if (rc == Z_BUF_ERROR && produced == 0) break;  // no progress possible: needs more input
        } while (rc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
        piece.remove_prefix(slice - z.avail_in);
        if (rc == Z_STREAM_END) member_ended_ = true;
    }
    return status_;
}

InflateStatus GzipInflater::finish() {
    if (status_ == InflateStatus::ok && !member_ended_) status_ = InflateStatus::corrupt;
    return status_;
}

struct GzipDeflater::Stream {
    explicit Stream(int level) {
        if (deflateInit2(&z, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
    }
    ~Stream() { deflateEnd(&z); }
    z_stream z{};
};

GzipDeflater::GzipDeflater(int level) : stream_(std::make_unique<Stream>(level)) {}
GzipDeflater::~GzipDeflater() = default;

namespace {

// Runs deflate over `piece` (possibly empty) with `flush`, appending all output.
void run_deflate(z_stream& z, std::string_view piece, int flush, std::string& out) {
    std::array<char, kChunk> buffer;
    do {
        const std::size_t slice = std::min(piece.size(), kMaxSlice);
        z.next_in = input_bytes(piece.data());
        z.avail_in = static_cast<uInt>(slice);
        const int slice_flush = slice == piece.size() ? flush : Z_NO_FLUSH;
        int rc = Z_OK;
        do {
            z.next_out = reinterpret_cast<Bytef*>(buffer.data());
            z.avail_out = static_cast<uInt>(buffer.size());
            rc = deflate(&z, slice_flush);
            if (rc == Z_STREAM_ERROR) return;  // only on misuse (a feed after finish); never loop on it
            out.append(buffer.data(), buffer.size() - z.avail_out);
            // Z_BUF_ERROR only means no progress was possible, which an empty feed may hit.
        } while (z.avail_out == 0 || (slice_flush == Z_FINISH && rc != Z_STREAM_END));
        piece.remove_prefix(slice);
    } while (!piece.empty());
}

}  // namespace

void GzipDeflater::feed(std::string_view piece, std::string& out) {
    if (!piece.empty()) run_deflate(stream_->z, piece, Z_NO_FLUSH, out);
}

void GzipDeflater::finish(std::string& out) { run_deflate(stream_->z, {}, Z_FINISH, out); }

std::string gzip_compress(std::string_view data, int level) {
    GzipDeflater deflater(level);
    std::string out;
    deflater.feed(data, out);
    deflater.finish(out);
    return out;
}

}  // namespace giosg::relay
