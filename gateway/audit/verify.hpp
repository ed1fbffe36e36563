#pragma once
// `audit verify` (README "Verifying"): checks a set of audit files as one hash chain — every line
// a chained record with the right hash, seq and prev; the files linked by their rotation records;
// with a public key, every checkpoint signature. Files are read line by line through a fixed
// buffer, so memory stays bounded whatever their size. tests/tools/verify_audit.py implements the
// same rules independently and must name the same first problem.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace giosg::audit {

class VerifyKey;

/// A line longer than this (without its '\n') is not something the writer wrote.
inline constexpr std::size_t kMaxAuditLineBytes = std::size_t{1} << 20;

namespace verify_exit {
inline constexpr int intact = 0;
inline constexpr int tampered = 1;
inline constexpr int unreadable = 2;  // also usage errors, at the command line
inline constexpr int torn_tail = 3;   // intact except a torn last line in the last file (a crash)
}  // namespace verify_exit

struct VerifyResult {
    int exit_code = verify_exit::intact;
    /// "file:line: reason" for the first problem ("file: reason" for an unreadable file); also
    /// set for a torn tail (exit 3); empty when intact.
    std::string problem;
    /// Summary lines for stdout (exit 0 and 3 only).
    std::vector<std::string> notes;
    /// Things an operator should know that are not tampering (records not covered by a
    /// signature, records the writer dropped).
    std::vector<std::string> warnings;
};

/// `--require-signed` (docs/audit.md "Verifying"): with a key, the trail must be covered by
/// checkpoints of that key, so that dropping them (and re-chaining) is caught.
struct VerifyOptions {
    bool require_signed = false;
    /// The records after the last valid checkpoint may span at most this much of `ts`.
    std::chrono::seconds max_unsigned{120};
};

/// Verifies `files` (any order; they are put in chain order by their first seq). Without `key`,
/// checkpoints are chain-checked but their signatures are not. Files are named in messages as
/// given.
VerifyResult verify_files(const std::vector<std::filesystem::path>& files, const VerifyKey* key);
/// The same with options; `require_signed` needs `key`. It also fails (exit 1) when no record is
/// covered by a valid checkpoint, when a file before the newest does not end in one, or when the
/// records after the last one span more than `max_unsigned` of `ts`.
VerifyResult verify_files(const std::vector<std::filesystem::path>& files, const VerifyKey* key,
                          const VerifyOptions& options);

}  // namespace giosg::audit
