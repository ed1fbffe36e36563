#pragma once
// The audit files on disk: the active file the writer appends to (open, append, fdatasync, seal
// under its rotated name) and the sealed files next to it (their names, listing, `keep`), plus
// reading where a file's chain ends, which both the writer's recovery and `check` need.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/chain.hpp"

namespace giosg {

/// What the writer would refuse about `path` (a folder; a file or folder it cannot write; a file
/// that does not end with a chained record), as one sentence naming the path; nullopt when the
/// path is usable. Read-only, so `check` can say what `serve` would.
std::optional<std::string> audit_path_problem(const std::filesystem::path& path);

namespace audit {

/// `<active name>.<last seq, 12 digits or more>`: the name a sealed file keeps for good.
std::string rotated_name(const std::filesystem::path& active, std::uint64_t last_seq);

/// The sealed files next to `active`, in chain order.
std::vector<std::filesystem::path> rotated_files(const std::filesystem::path& active);

/// Removes all but the newest `keep` sealed files (keep 0: removes none); failures are logged.
void remove_old_rotated(const std::filesystem::path& active, unsigned keep);

/// Where a file's chain ends.
struct FileTail {
    std::uint64_t size = 0;
    std::uint64_t torn_bytes = 0;           // bytes after the last '\n'
    std::optional<ChainState> state;        // from the last complete line
    bool last_line_unchained = false;       // a complete last line that is not a chained record
};

/// Throws std::system_error naming the file when it cannot be read.
FileTail read_tail(const std::filesystem::path& file);

/// The file the writer appends to: stdout, or a path opened for appending.
class ActiveFile {
public:
    ActiveFile() = default;
    ~ActiveFile();  // closes a file it opened (never stdout)
    ActiveFile(const ActiveFile&) = delete;
    ActiveFile& operator=(const ActiveFile&) = delete;

    /// Appends to stdout from now on: never closed, rotated or fsynced.
    void use_stdout() noexcept;
    /// Opens `path` for appending, creating it (0640); 0 or the errno. Takes the file's size and
    /// type from it.
    int open(const std::filesystem::path& path);

    [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
    /// A regular file (not stdout, /dev/null or a FIFO): rotation and fsync apply.
    [[nodiscard]] bool regular() const noexcept { return regular_; }
    /// Bytes of complete lines in the file.
    [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }

    struct Written {
        int error = 0;          // 0: all of it was written
        std::size_t bytes = 0;  // how much went out before the error
    };
    /// Writes all of `data`; bytes() grows by its size when it all went out. A non-zero
    /// `inject_errno` (a test seam) fails the write before anything is written, as a full disk would.
    Written append(std::string_view data, int inject_errno);
    /// After a failed append: cuts the file back to bytes(), its last complete line. False with
    /// errno set when that fails.
    bool cut_back();
    /// fdatasync; 0 or the errno.
    int sync_data();
    /// Renames the active file to `sealed` and closes it, so that the next open() creates a new
    /// one; 0 or the errno (then nothing changed).
    int seal(const std::filesystem::path& active, const std::filesystem::path& sealed);

private:
    int fd_ = -1;
    bool owned_ = false;      // ours to close (not stdout)
    bool regular_ = false;
    std::uint64_t bytes_ = 0;
};

}  // namespace audit
}  // namespace giosg
