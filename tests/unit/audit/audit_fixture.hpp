#pragma once
// Audit file sets for the verifier tests: an intact rotated, signed chain built with the writer's
// own primitives (append_audit_json, append_chained), then damaged the way an attacker or a crash
// would. The unit tests run verify_files on each case; the integration test runs the binary and
// tests/tools/verify_audit.py on the same cases and expects both to name the same first problem.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/chain.hpp"
#include "audit/record.hpp"
#include "audit/signing.hpp"

namespace giosg::audit::fixture {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline void write_file(const fs::path& file, std::string_view text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

/// The lines of `text`, each with its '\n' (the last one without, when torn).
inline std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const auto length = end == std::string_view::npos ? text.size() : end + 1;
        lines.emplace_back(text.substr(0, length));
        text.remove_prefix(length);
    }
    return lines;
}

inline std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line;
    return text;
}

/// The hash member of a chained line.
inline std::string hash_of(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return std::string(line.substr(line.size() - 2 - kHashHexSize, kHashHexSize));
}

struct KeyFiles {
    fs::path private_key;
    fs::path public_key;
};

inline KeyFiles write_key_pair(const fs::path& dir, const std::string& name) {
    const auto pair = generate_key_pair();
    KeyFiles files{dir / (name + ".key"), dir / (name + ".pub")};
    write_file(files.private_key, pair.private_pem);
    write_file(files.public_key, pair.public_pem);
    return files;
}

/// Chains records as the writer does, with deterministic timestamps.
class ChainBuilder {
public:
    explicit ChainBuilder(const SigningKey* signer = nullptr, std::string client = "billing")
        : signer_(signer), client_(std::move(client)) {}

    /// A request record with every member of docs/reference.md §4.
    std::string request() { return chained_object(request_object()); }

    /// A request record without `member`.
    std::string request_without(std::string_view member) {
        auto object = request_object();
        const auto start = object.find(",\"" + std::string(member) + "\":");
        auto end = object.find(",\"", start + 1);
        if (end == std::string::npos) end = object.rfind('}');
        object.erase(start, end - start);
        return chained_object(object);
    }

    /// A checkpoint signed by the builder's key; with `valid_signature` false, the signature is
    /// over another message (what a forger without the key could at best produce).
    std::string checkpoint(std::string_view reason, bool valid_signature = true) {
        const auto ts = timestamp();
        const auto seq = state_.seq + 1 + (valid_signature ? 0 : 1);
        const auto sig = signer_->sign_hex(checkpoint_message(seq, state_.last_hash_view(), ts));
        return chained("\"kind\":\"checkpoint\",\"ts\":\"" + ts + "\",\"reason\":\"" + std::string(reason) +
                       "\",\"key_id\":\"" + signer_->key_id() + "\",\"sig\":\"" + sig + "\"");
    }

    std::string rotation(std::string_view previous_file, std::uint64_t previous_bytes, std::uint64_t torn_bytes = 0,
                         std::string_view reason = "size") {
        return chained("\"kind\":\"rotation\",\"ts\":\"" + timestamp() + "\",\"reason\":\"" + std::string(reason) +
                       "\",\"previous_file\":\"" + std::string(previous_file) +
                       "\",\"previous_bytes\":" + std::to_string(previous_bytes) +
                       ",\"torn_bytes\":" + std::to_string(torn_bytes));
    }

    /// A correction record; `status` empty leaves the member out.
    std::string correction(std::string_view status) {
        return chained("\"kind\":\"correction\",\"ts\":\"" + timestamp() +
                       "\",\"request_id\":\"r1\",\"code\":\"audit_unavailable\"," +
                       (status.empty() ? std::string() : "\"status\":" + std::string(status) + ",") +
                       "\"bytes_out\":120");
    }

    std::string gap(std::uint64_t dropped) {
        return chained("\"kind\":\"gap\",\"ts\":\"" + timestamp() + "\",\"dropped\":" + std::to_string(dropped));
    }

    /// Any members, chained.
    std::string chained(std::string_view fields) {
        std::string line;
        append_chained(state_, fields, line);
        return line;
    }

    ChainState& state() { return state_; }

private:
    std::string request_object() const {
        const auto request_id = "req-" + std::to_string(state_.seq + 1);
        AuditRecord record;
        record.ts = now();
        record.request_id = request_id;
        record.client = client_;
        record.remote = "10.0.0.7:51234";
        record.method = "GET";
        record.path = "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/owned_chats";
        record.pattern = "/api/v5/orgs/<organization_id>/owned_chats";
        record.allowed = true;
        record.status = 200;
        record.upstream_status = 200;
        record.bytes_out = 1234;
        record.duration_ms = 1.5;
        record.upstream_ms = 1.25;
        std::string object;
        append_audit_json(record, object);
        return object;
    }
    std::string chained_object(std::string_view object) {
        std::string line;
        append_chained_object(state_, object, line);
        return line;
    }
    std::chrono::system_clock::time_point now() const {
        // 2026-11-28T03:12:09.412Z plus one second per record.
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795835529412) +
                                                     std::chrono::seconds(state_.seq));
    }
    std::string timestamp() const {
        std::string ts;
        append_rfc3339_ms(now(), ts);
        return ts;
    }

    const SigningKey* signer_;
    std::string client_;
    ChainState state_;
};

struct File {
    std::string name;
    std::string text;
};
using FileSet = std::vector<File>;

inline std::string rotated_name(std::uint64_t last_seq) {
    auto digits = std::to_string(last_seq);
    return "audit.jsonl." + std::string(12 - digits.size(), '0') + digits;
}

struct ChainOptions {
    std::string client = "billing";           // tells chains apart
    std::optional<std::size_t> torn_file;     // this file ends with a torn line (a crash) ...
    bool torn_accounted = true;               // ... which the next file's rotation record accounts for
    std::optional<std::size_t> bad_signature_file;  // this file's checkpoint does not verify
};

inline ChainOptions another_client() {
    ChainOptions options;
    options.client = "support";
    return options;
}
inline ChainOptions torn_at_end_of(std::size_t file, bool accounted) {
    ChainOptions options;
    options.torn_file = file;
    options.torn_accounted = accounted;
    return options;
}
inline ChainOptions bad_signature_in(std::size_t file) {
    ChainOptions options;
    options.bad_signature_file = file;
    return options;
}

/// An intact chain of three files, as the writer leaves them with audit.signing_key_file set:
///   audit.jsonl.000000000006  requests 1-5, checkpoint 6 ("rotation")
///   audit.jsonl.000000000013  rotation 7, requests 8-12, checkpoint 13
///   audit.jsonl               rotation 14, requests 15-19, checkpoint 20 ("shutdown")
inline FileSet rotated_chain(const SigningKey& signer, const ChainOptions& options = {}) {
    constexpr std::size_t kFiles = 3;
    ChainBuilder chain(&signer, options.client);
    FileSet files;
    std::uint64_t torn_bytes = 0;
    for (std::size_t i = 0; i < kFiles; ++i) {
        std::string text;
        if (i > 0)
            text += chain.rotation(files.back().name, files.back().text.size(),
                                   options.torn_accounted ? torn_bytes : 0, torn_bytes > 0 ? "recovered" : "size");
        for (int r = 0; r < 5; ++r) text += chain.request();
        const bool last = i + 1 == kFiles;
        text += chain.checkpoint(last ? "shutdown" : "rotation", options.bad_signature_file != i);
        torn_bytes = 0;
        if (options.torn_file == i) {
            // The first bytes of the next record, chained on a copy so the chain goes on without it.
            ChainBuilder copy(nullptr, options.client);
            copy.state() = chain.state();
            const auto torn = copy.request().substr(0, 60);
            text += torn;
            torn_bytes = torn.size();
        }
        files.push_back({last ? "audit.jsonl" : rotated_name(chain.state().seq), std::move(text)});
    }
    return files;
}

/// Writes `files` into `dir` and returns their paths in the same order.
inline std::vector<fs::path> write_set(const fs::path& dir, const FileSet& files) {
    fs::create_directories(dir);
    std::vector<fs::path> paths;
    for (const auto& file : files) {
        paths.push_back(dir / file.name);
        write_file(paths.back(), file.text);
    }
    return paths;
}

/// Edits the lines of `file` (each with its '\n').
inline void edit_lines(File& file, const std::function<void(std::vector<std::string>&)>& edit) {
    auto lines = split_lines(file.text);
    edit(lines);
    file.text = join(lines);
}

/// A file set for the verifier and what it must say about it.
struct AuditCase {
    std::vector<fs::path> files;           // in the order given to the verifier
    std::optional<fs::path> public_key;    // --public-key
    int exit_code = 0;
    std::string location;                  // "FILE:LINE" of the first problem; empty when none
};

struct Keys {
    KeyFiles files;
    KeyFiles other_files;
    SigningKey signer;
    SigningKey other_signer;

    explicit Keys(const fs::path& dir)
        : files(write_key_pair(dir, "audit")),
          other_files(write_key_pair(dir, "other")),
          signer(SigningKey::load(files.private_key)),
          other_signer(SigningKey::load(other_files.private_key)) {}
};

inline std::string at(const fs::path& file, int line) { return file.string() + ":" + std::to_string(line); }

// The standard set's files: A (seq 1-6), B (7-13), C (14-20). B's lines: 1 rotation, 2-6
// requests 8-12, 7 checkpoint.
enum { A, B, C };

/// Every case by name; `dir` is the case's own (new) folder.
inline const std::vector<std::pair<std::string, std::function<AuditCase(const fs::path& dir, const Keys&)>>>&
audit_cases() {
    using Build = std::function<AuditCase(const fs::path&, const Keys&)>;
    // The standard set with `damage` done to it, given in order, checked with the public key.
    const auto damaged = [](const std::function<void(FileSet&)>& damage, int exit_code, int file, int line) -> Build {
        return [=](const fs::path& dir, const Keys& keys) {
            auto set = rotated_chain(keys.signer);
            damage(set);
            AuditCase c{write_set(dir, set), keys.files.public_key, exit_code, {}};
            if (line > 0) c.location = at(c.files[static_cast<std::size_t>(file)], line);
            return c;
        };
    };
    const auto from_options = [](ChainOptions options, bool with_key, int exit_code, int file, int line) -> Build {
        return [=](const fs::path& dir, const Keys& keys) {
            AuditCase c{write_set(dir, rotated_chain(keys.signer, options)), std::nullopt, exit_code, {}};
            if (with_key) c.public_key = keys.files.public_key;
            if (line > 0) c.location = at(c.files[static_cast<std::size_t>(file)], line);
            return c;
        };
    };
    // One file of chained records made by `records`.
    const auto single = [](const std::function<std::string(ChainBuilder&)>& records, int exit_code, int line) -> Build {
        return [=](const fs::path& dir, const Keys&) {
            ChainBuilder chain;
            AuditCase c{write_set(dir, {{"audit.jsonl", records(chain)}}), std::nullopt, exit_code, {}};
            if (line > 0) c.location = at(c.files[0], line);
            return c;
        };
    };

    static const std::vector<std::pair<std::string, Build>> cases = {
        {"intact", damaged([](FileSet&) {}, 0, 0, 0)},
        {"intact_without_key", from_options({}, false, 0, 0, 0)},
        {"edited_field", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) {
                 const auto at_method = lines[2].find("\"method\":\"GET\"");
                 lines[2].replace(at_method, 14, "\"method\":\"PUT\"");
             });
         }, 1, B, 3)},
        {"edited_hash", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) {
                 auto& digit = lines[2][lines[2].size() - 4];
                 digit = digit == '0' ? '1' : '0';
             });
         }, 1, B, 3)},
        {"deleted_record", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) { lines.erase(lines.begin() + 2); });
         }, 1, B, 3)},
        {"duplicated_record", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) { lines.insert(lines.begin() + 3, lines[2]); });
         }, 1, B, 4)},
        {"reordered_pair", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) { std::swap(lines[2], lines[3]); });
         }, 1, B, 3)},
        // A forger without the key chains a record onto line 3 with a correct hash: the record
        // after it no longer follows.
        {"inserted_forged_record", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) {
                 ChainBuilder forger(nullptr, "intruder");
                 forger.state().seq = 9;
                 const auto prev = hash_of(lines[2]);
                 std::copy(prev.begin(), prev.end(), forger.state().last_hash.begin());
                 lines.insert(lines.begin() + 3, forger.request());
             });
         }, 1, B, 5)},
        {"file_missing_from_the_middle", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             set.erase(set.begin() + B);
             AuditCase c{write_set(dir, set), keys.files.public_key, 1, {}};
             c.location = at(c.files[1], 1);
             return c;
         }},
        // B replaced by the same file of another gateway's chain (same names, same sizes).
        {"foreign_file_in_the_middle", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             set[B] = rotated_chain(keys.signer, another_client()).at(B);
             AuditCase c{write_set(dir, set), keys.files.public_key, 1, {}};
             c.location = at(c.files[B], 1);
             return c;
         }},
        // Another chain's first file given after this one's.
        {"foreign_chain_start", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             auto other = rotated_chain(keys.signer, another_client());
             other[A].name = "other.jsonl.000000000006";
             set.push_back(other[A]);
             AuditCase c{write_set(dir, set), keys.files.public_key, 1, {}};
             c.location = at(c.files[3], 1);
             return c;
         }},
        {"bad_checkpoint_signature", from_options(bad_signature_in(B), true, 1, B, 7)},
        {"bad_checkpoint_signature_without_key", from_options(bad_signature_in(B), false, 0, 0, 0)},
        {"checkpoint_signed_by_another_key", [](const fs::path& dir, const Keys& keys) {
             AuditCase c{write_set(dir, rotated_chain(keys.other_signer)), keys.files.public_key, 1, {}};
             c.location = at(c.files[A], 6);
             return c;
         }},
        {"torn_tail_in_the_last_file", damaged([](FileSet& s) { s[C].text += s[C].text.substr(0, 50); }, 3, C, 8)},
        {"torn_line_in_the_middle", from_options(torn_at_end_of(B, false), true, 1, B, 8)},
        {"torn_line_accounted_for", from_options(torn_at_end_of(A, true), true, 0, 0, 0)},
        {"files_in_shuffled_order", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             std::swap(set[A], set[C]);
             std::swap(set[B], set[C]);  // C, A, B
             return AuditCase{write_set(dir, set), keys.files.public_key, 0, {}};
         }},
        {"continues_from_a_file_not_given", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             set.erase(set.begin() + A);
             return AuditCase{write_set(dir, set), keys.files.public_key, 0, {}};
         }},
        // A record chained onto the end of a sealed file: its chain is fine, its size is not.
        {"record_appended_to_a_rotated_file", damaged([](FileSet& s) {
             ChainBuilder forger(nullptr, "intruder");
             const auto lines = split_lines(s[A].text);
             forger.state().seq = 6;
             const auto prev = hash_of(lines.back());
             std::copy(prev.begin(), prev.end(), forger.state().last_hash.begin());
             s[A].text += forger.request();
         }, 1, B, 1)},
        // The final checkpoint and the record before it cut off: not provably tampering.
        {"tail_cut_after_the_last_checkpoint", damaged([](FileSet& s) {
             edit_lines(s[C], [](auto& lines) { lines.resize(lines.size() - 2); });
         }, 0, 0, 0)},
        {"empty_file_ignored", damaged([](FileSet& s) { s.push_back({"audit.jsonl.empty", ""}); }, 0, 0, 0)},
        {"line_that_is_not_a_record", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) { lines.insert(lines.begin() + 2, "hello, auditor\n"); });
         }, 1, B, 3)},
        {"line_too_long", damaged([](FileSet& s) {
             edit_lines(s[B], [](auto& lines) { lines[2] = std::string((1u << 20) + 1, 'x') + "\n"; });
         }, 1, B, 3)},
        {"unknown_record_kind", single([](ChainBuilder& chain) {
             std::string text = chain.request();
             text += chain.request();
             text += chain.chained("\"kind\":\"mystery\",\"ts\":\"x\"");
             text += chain.request();
             return text;
         }, 1, 3)},
        {"request_record_without_a_member", single([](ChainBuilder& chain) {
             std::string text = chain.request();
             text += chain.request_without("upstream_ms");
             text += chain.request();
             return text;
         }, 1, 2)},
        {"chain_that_starts_in_the_middle", single([](ChainBuilder& chain) {
             chain.state().seq = 4;
             std::string text = chain.request();
             text += chain.request();
             return text;
         }, 1, 1)},
        {"gap_record", single([](ChainBuilder& chain) {
             std::string text = chain.request();
             text += chain.gap(3);
             text += chain.request();
             return text;
         }, 0, 0)},
        {"correction_record", single([](ChainBuilder& chain) {
             std::string text = chain.request();
             text += chain.correction("503");
             text += chain.request();
             return text;
         }, 0, 0)},
        {"correction_record_without_status", single([](ChainBuilder& chain) {
             std::string text = chain.request();
             text += chain.correction("");
             return text;
         }, 1, 2)},
        {"unreadable_file", [](const fs::path& dir, const Keys& keys) {
             auto set = rotated_chain(keys.signer);
             auto c = AuditCase{write_set(dir, set), keys.files.public_key, 2, {}};
             c.files.push_back(dir / "no-such-file");
             return c;
         }},
    };
    return cases;
}

}  // namespace giosg::audit::fixture
