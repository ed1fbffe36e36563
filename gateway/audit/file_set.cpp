#include "audit/file_set.hpp"

#include "common/format.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace giosg {

namespace fs = std::filesystem;

namespace audit {

namespace {
constexpr std::size_t kTailScanBytes = 1u << 20;  // a record line is far shorter than this

/// `<name>.<12 or more digits>`: a file this writer rotated.
bool is_rotated_name(const std::string& candidate, const std::string& active_name) {
    if (candidate.size() < active_name.size() + 13 || !candidate.starts_with(active_name) ||
        candidate[active_name.size()] != '.')
        return false;
    return std::all_of(candidate.begin() + static_cast<std::ptrdiff_t>(active_name.size()) + 1, candidate.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string rotated_name(const fs::path& active, std::uint64_t last_seq) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(last_seq));
    return active.filename().string() + "." + digits;
}

std::vector<fs::path> rotated_files(const fs::path& active) {
    std::vector<fs::path> found;
    std::error_code ec;
    const auto name = active.filename().string();
    for (const auto& entry : fs::directory_iterator(active.parent_path(), ec)) {
        if (is_rotated_name(entry.path().filename().string(), name)) found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());  // fixed-width seq: name order is chain order
    return found;
}

FileTail read_tail(const fs::path& file) {
    FileTail tail;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot read audit file " + file.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(), "cannot stat audit file " + file.string());
    }
    tail.size = static_cast<std::uint64_t>(st.st_size);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(tail.size, kTailScanBytes));
    std::string buffer(want, '\0');
    std::size_t got = 0;
    while (got < want) {
        const auto n = ::pread(fd, buffer.data() + got, want - got, static_cast<off_t>(tail.size - want + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buffer.resize(got);
    const auto last_newline = buffer.rfind('\n');
    if (last_newline == std::string::npos) {
        tail.torn_bytes = buffer.size();
        return tail;
    }
    tail.torn_bytes = buffer.size() - last_newline - 1;
    const auto line_start = buffer.rfind('\n', last_newline == 0 ? std::string::npos : last_newline - 1);
    const std::string_view line =
        std::string_view(buffer).substr(line_start == std::string::npos ? 0 : line_start + 1,
                                        last_newline - (line_start == std::string::npos ? 0 : line_start + 1));
    const auto split = audit::split_chained_line(line);
    boost::system::error_code ec;
    (void)boost::json::parse(boost::json::string_view(line.data(), line.size()), ec);
    if (!split || ec) {
        tail.last_line_unchained = true;
        return tail;
    }
    audit::ChainState state;
    state.seq = split->seq;
    std::copy(split->hash.begin(), split->hash.end(), state.last_hash.begin());
    tail.state = state;
    return tail;
}

void remove_old_rotated(const fs::path& active, unsigned keep) {
    if (keep == 0) return;
    const auto files = rotated_files(active);
    if (files.size() <= keep) return;
    for (std::size_t i = 0; i + keep < files.size(); ++i) {
        std::error_code ec;
        fs::remove(files[i], ec);
        if (ec) spdlog::warn("audit: cannot remove old file {}: {}", files[i].string(), ec.message());
    }
}

ActiveFile::~ActiveFile() {
    if (fd_ >= 0 && owned_) ::close(fd_);
}

void ActiveFile::use_stdout() noexcept {
    fd_ = STDOUT_FILENO;  // a new chain on every start: stdout's past is not ours to read
    owned_ = false;
}

int ActiveFile::open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return errno;
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
        bytes_ = static_cast<std::uint64_t>(st.st_size);
        regular_ = S_ISREG(st.st_mode);
    }
    fd_ = fd;
    owned_ = true;
    return 0;
}

ActiveFile::Written ActiveFile::append(std::string_view data, int inject_errno) {
    Written result{inject_errno, 0};
    while (result.error == 0 && result.bytes < data.size()) {
        const auto n = ::write(fd_, data.data() + result.bytes, data.size() - result.bytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            result.error = errno;
            break;
        }
        result.bytes += static_cast<std::size_t>(n);
    }
    if (result.error == 0) bytes_ += data.size();
    return result;
}

bool ActiveFile::cut_back() { return ::ftruncate(fd_, static_cast<off_t>(bytes_)) == 0; }

int ActiveFile::sync_data() { return ::fdatasync(fd_) == 0 ? 0 : errno; }

int ActiveFile::seal(const fs::path& active, const fs::path& sealed) {
    if (::rename(active.c_str(), sealed.c_str()) != 0) return errno;
    ::close(fd_);
    fd_ = -1;
    bytes_ = 0;
    return 0;
}

}  // namespace audit

std::optional<std::string> audit_path_problem(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) {
        const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        if (!fs::is_directory(folder, ec)) return "cannot create " + path.string() + ": its folder does not exist";
        if (::access(folder.c_str(), W_OK | X_OK) != 0)
            return "cannot create " + path.string() + ": " + errno_text(errno);
        return std::nullopt;
    }
    if (fs::is_directory(status)) return path.string() + " is a directory";
    if (::access(path.c_str(), W_OK) != 0)
        return "cannot write " + path.string() + ": " + errno_text(errno);
    if (!fs::is_regular_file(status)) return std::nullopt;  // /dev/null, a FIFO: nothing to read back
    try {
        const audit::FileTail tail = audit::read_tail(path);
        // A file holding only a torn line is started over; a torn last line after records is sealed.
        if (tail.last_line_unchained)
            return path.string() +
                   " does not end with a chained record (written by another program or an older version); move it "
                   "away to start a new chain";
    } catch (const std::system_error& e) {
        return e.what();
    }
    return std::nullopt;
}

}  // namespace giosg
