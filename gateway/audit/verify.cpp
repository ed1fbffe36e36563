#include "audit/verify.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "audit/chain.hpp"
#include "audit/line_reader.hpp"
#include "audit/signing.hpp"
#include "common/format.hpp"
#include "audit/verify_record.hpp"

namespace giosg::audit {

namespace {

namespace fs = std::filesystem;

std::string seq_range(std::uint64_t first, std::uint64_t last) {
    return std::to_string(first) + ".." + std::to_string(last);
}

/// The writer's `ts` ("2026-11-27T23:59:59.123Z", also without the fraction) as milliseconds
/// since the epoch; nullopt for anything else.
std::optional<std::int64_t> ts_millis(std::string_view ts) {
    const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        if (at + n > ts.size()) return std::nullopt;
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (ts[i] < '0' || ts[i] > '9') return std::nullopt;
            v = v * 10 + (ts[i] - '0');
        }
        return v;
    };
    if (ts.size() < 20 || ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' || ts[16] != ':') return std::nullopt;
    const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
               sec = digits(17, 2);
    if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
    int ms = 0;
    std::size_t at = 19;
    if (ts[at] == '.') {
        const auto frac = digits(at + 1, 3);
        if (!frac) return std::nullopt;
        ms = *frac;
        at += 4;
    }
    if (at + 1 != ts.size() || ts[at] != 'Z') return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                           std::chrono::day(static_cast<unsigned>(*d))};
    if (!date.ok()) return std::nullopt;
    const auto days = std::chrono::sys_days(date).time_since_epoch().count();
    return ((static_cast<std::int64_t>(days) * 24 + *h) * 60 + *mi) * 60000 + std::int64_t{*sec} * 1000 + ms;
}

std::string plural(std::uint64_t n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

struct InputFile {
    fs::path path;
    std::string name;                        // as given: how messages name it
    std::optional<std::uint64_t> first_seq;  // none: the file holds only a torn line
};

class Verifier {
public:
    Verifier(const VerifyKey* key, VerifyOptions options) : key_(key), options_(options) {}

    VerifyResult run(const std::vector<fs::path>& paths) {
        auto files = read_first_lines(paths);
        if (!files || !check_order(*files)) return std::move(result_);
        for (std::size_t i = 0; i < files->size(); ++i) {
            if (!walk((*files)[i])) return std::move(result_);
            if (require_signed() && i + 1 < files->size() && !ends_in_checkpoint_) {
                tampered((*files)[i].name, last_line_, "a rotated file must end in a signed checkpoint (--require-signed)");
                return std::move(result_);
            }
        }
        if (require_signed() && !check_signed_tail()) return std::move(result_);
        if (torn_) {
            // Only the last file can still hold an unaccounted torn line here.
            result_.exit_code = verify_exit::torn_tail;
            result_.problem = location(torn_->file, torn_->line) + "torn last line (" +
                              plural(torn_->bytes, "byte") + "): the writer stopped mid-write";
        }
        summarise(files->size());
        return std::move(result_);
    }

private:
    struct TornLine {
        std::string file;
        std::uint64_t line = 0;
        std::uint64_t bytes = 0;
    };
    struct FileEnd {
        std::string name;      // as given
        std::string basename;  // as rotation records name it
        std::uint64_t bytes = 0;
    };

    static std::string location(std::string_view file, std::uint64_t line) {
        return std::string(file) + ":" + std::to_string(line) + ": ";
    }

    bool tampered(std::string_view file, std::uint64_t line, std::string_view reason) {
        result_.exit_code = verify_exit::tampered;
        result_.problem = location(file, line) + std::string(reason);
        result_.notes.clear();
        result_.warnings.clear();
        return false;
    }

    bool unreadable(const InputFile& file, int error) {
        result_.exit_code = verify_exit::unreadable;
        result_.problem = file.name + ": cannot read: " + errno_text(error);
        result_.notes.clear();
        result_.warnings.clear();
        return false;
    }

    // The first line of every file gives its place in the chain. An unreadable file wins over
    // any other problem: the set cannot be judged.
    std::optional<std::vector<InputFile>> read_first_lines(const std::vector<fs::path>& paths) {
        std::vector<InputFile> files;
        std::optional<std::pair<std::string, std::string>> problem;  // file, reason
        std::string line;
        for (const auto& path : paths) {
            InputFile file{path, path.string(), std::nullopt};
            LineReader reader(path);
            switch (reader.next(line)) {
                case LineReader::Next::error:
                    unreadable(file, reader.error());
                    return std::nullopt;
                case LineReader::Next::end: result_.notes.push_back(file.name + ": empty, ignored"); continue;
                case LineReader::Next::too_long:
                    if (!problem) problem.emplace(file.name, "line longer than 1 MiB");
                    continue;
                case LineReader::Next::torn: break;
                case LineReader::Next::line:
                    if (const auto chained = split_chained_line(line)) file.first_seq = chained->seq;
                    else if (!problem) problem.emplace(file.name, "not a chained audit record");
                    break;
            }
            files.push_back(std::move(file));
        }
        if (problem) {
            tampered(problem->first, 1, problem->second);
            return std::nullopt;
        }
        return files;
    }

    // Chain order: by first seq; a file holding only a torn line (a crash while writing its first
    // line) can only be the last.
    bool check_order(std::vector<InputFile>& files) {
        std::stable_sort(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) {
            if (!a.first_seq || !b.first_seq) return a.first_seq.has_value() && !b.first_seq.has_value();
            return *a.first_seq < *b.first_seq;
        });
        for (std::size_t i = 1; i < files.size(); ++i) {
            if (files[i].first_seq && files[i].first_seq == files[i - 1].first_seq)
                return tampered(files[i].name, 1,
                                "starts at seq " + std::to_string(*files[i].first_seq) + " like " +
                                    files[i - 1].name + " (a copy, or a file of another chain)");
        }
        return true;
    }

    [[nodiscard]] bool require_signed() const noexcept { return options_.require_signed && key_ != nullptr; }

    // --require-signed: something is signed, and what follows the last signature is short.
    bool check_signed_tail() {
        if (records_ == 0) return true;
        if (!last_checkpoint_)
            return tampered(last_file_, last_line_,
                            "no record is covered by a valid checkpoint of key_id " + key_->key_id() +
                                " (--require-signed)");
        const auto signed_at = ts_millis(last_checkpoint_->second);
        const auto last_at = ts_millis(last_ts_);
        if (!signed_at || !last_at) return true;  // checkpoint ts is checked by its signature; request ts may be any
        const auto span_ms = *last_at - *signed_at;
        if (span_ms > std::chrono::milliseconds(options_.max_unsigned).count())
            return tampered(last_file_, last_line_,
                            plural(chain_->seq - last_checkpoint_->first, "record") +
                                " after the last checkpoint span " + std::to_string(span_ms / 1000) +
                                " s of ts, more than --max-unsigned-s " + std::to_string(options_.max_unsigned.count()));
        return true;
    }

    bool walk(const InputFile& file) {
        ends_in_checkpoint_ = false;
        LineReader reader(file.path);
        std::string line;
        std::uint64_t line_number = 0;
        for (auto next = reader.next(line); next != LineReader::Next::end; next = reader.next(line)) {
            switch (next) {
                case LineReader::Next::error: return unreadable(file, reader.error());
                case LineReader::Next::too_long: return tampered(file.name, line_number + 1, "line longer than 1 MiB");
                case LineReader::Next::line:
                    ++line_number;
                    if (!check_line(file, line_number, line)) return false;
                    break;
                case LineReader::Next::torn:
                    // The next file's first record must account for it; this file has none, so an
                    // earlier torn line is not accounted for.
                    if (torn_) return torn_not_accounted("the next file has no complete record");
                    torn_ = TornLine{file.name, line_number + 1, line.size()};
                    ends_in_checkpoint_ = false;
                    break;
                case LineReader::Next::end: break;
            }
        }
        previous_ = FileEnd{file.name, file.path.filename().string(), reader.bytes_read()};
        return true;
    }

    bool torn_not_accounted(std::string_view why) {
        return tampered(torn_->file, torn_->line,
                        "torn line (" + plural(torn_->bytes, "byte") + ") not accounted for: " + std::string(why));
    }

    bool check_line(const InputFile& file, std::uint64_t line_number, std::string_view line) {
        ParsedRecord record;
        if (auto why = parse_record(line, record); !why.empty()) return tampered(file.name, line_number, why);
        const auto& chained = record.chained;
        const bool rotation = record.kind == "rotation";

        if (rotation && line_number != 1)
            return tampered(file.name, line_number, "rotation record inside a file (only a file's first record links)");
        if (line_number == 1 && previous_) {
            if (!check_link(file, record)) return false;
        } else if (line_number == 1 && !chain_) {
            if (rotation) {
                result_.notes.push_back(file.name + " continues the chain from " +
                                        std::string(string_of(record.members, "previous_file")) +
                                        ", which was not given: seq " + seq_range(1, chained.seq - 1) +
                                        " not checked");
            } else if (chained.seq != 1 || chained.prev != kGenesisPrev) {
                return tampered(file.name, line_number,
                                "seq " + std::to_string(chained.seq) +
                                    " neither starts a chain (seq 1, prev 64 zeros) nor continues one (a rotation "
                                    "record)");
            }
        }
        if (chain_) {
            if (chained.seq != chain_->seq + 1)
                return tampered(file.name, line_number,
                                "seq " + std::to_string(chained.seq) + ", expected " + std::to_string(chain_->seq + 1) +
                                    " (a record missing, duplicated or out of order)");
            if (chained.prev != chain_->last_hash_view())
                return tampered(file.name, line_number, "prev is not the hash of the record before it");
        } else {
            first_seq_ = chained.seq;
            chain_.emplace();
        }
        chain_->seq = chained.seq;
        std::copy(chained.hash.begin(), chained.hash.end(), chain_->last_hash.begin());
        ++records_;

        if (record.kind == "checkpoint" && !check_checkpoint(file, line_number, record)) return false;
        ends_in_checkpoint_ = record.kind == "checkpoint";
        last_file_ = file.name;
        last_line_ = line_number;
        if (const auto* ts = record.members.if_contains("ts"); ts != nullptr && ts->is_string())
            last_ts_.assign(ts->get_string().data(), ts->get_string().size());
        if (record.kind == "gap")
            result_.warnings.push_back(location(file.name, line_number) + "the writer dropped " +
                                       plural(count_of(record.members.at("dropped")), "record") + " here");
        return true;
    }

    // The first record of every file after the first links it to the file before it.
    bool check_link(const InputFile& file, const ParsedRecord& record) {
        if (record.kind != "rotation")
            return tampered(file.name, 1, "does not start with a rotation record linking it to " + previous_->name);
        const auto named = string_of(record.members, "previous_file");
        if (named != previous_->basename)
            return tampered(file.name, 1,
                            "rotation record links to \"" + std::string(named) + "\", but the file before it is " +
                                previous_->name + " (a file missing from the set?)");
        const auto bytes = count_of(record.members.at("previous_bytes"));
        if (bytes != previous_->bytes)
            return tampered(file.name, 1,
                            "rotation record says " + previous_->name + " had " + plural(bytes, "byte") + ", it has " +
                                std::to_string(previous_->bytes));
        const auto torn_bytes = count_of(record.members.at("torn_bytes"));
        if (torn_ && torn_bytes != torn_->bytes)
            return torn_not_accounted(file.name + "'s rotation record says torn_bytes " + std::to_string(torn_bytes));
        if (!torn_ && torn_bytes != 0)
            return tampered(file.name, 1,
                            "rotation record says " + previous_->name + " ends with " + plural(torn_bytes, "torn byte") +
                                ", but its last line is complete");
        if (torn_) {
            result_.notes.push_back(location(torn_->file, torn_->line) + "torn line (" + plural(torn_->bytes, "byte") +
                                    ", a crash mid-write) accounted for by " + file.name + "'s rotation record");
            torn_.reset();
        }
        return true;
    }

    bool check_checkpoint(const InputFile& file, std::uint64_t line_number, const ParsedRecord& record) {
        if (key_ != nullptr) {
            const auto key_id = string_of(record.members, "key_id");
            if (key_id != key_->key_id())
                return tampered(file.name, line_number,
                                "checkpoint signed by another key (key_id " + std::string(key_id) + ")");
            const auto message =
                checkpoint_message(record.chained.seq, record.chained.prev, string_of(record.members, "ts"));
            if (!key_->verify_hex(message, string_of(record.members, "sig")))
                return tampered(file.name, line_number, "checkpoint signature does not verify");
        }
        ++checkpoints_;
        last_checkpoint_ = std::make_pair(record.chained.seq, std::string(string_of(record.members, "ts")));
        return true;
    }

    void summarise(std::size_t files) {
        auto& notes = result_.notes;
        if (records_ == 0) {
            notes.push_back("no records");
        } else {
            notes.push_back(std::string(result_.exit_code == verify_exit::intact ? "intact" : "intact up to the torn "
                                                                                              "last line") +
                            ": " + plural(records_, "record") + " in " + plural(files, "file") + ", seq " +
                            seq_range(first_seq_, chain_->seq));
        }
        if (key_ == nullptr) {
            notes.push_back("checkpoint signatures not checked (no --public-key)");
            return;
        }
        if (!last_checkpoint_) {
            if (records_ > 0)
                result_.warnings.push_back("no checkpoint: none of the " + plural(records_, "record") +
                                           " is covered by a signature");
            return;
        }
        const auto after = chain_->seq - last_checkpoint_->first;
        notes.push_back(plural(checkpoints_, "checkpoint") + " verified with key_id " + key_->key_id() +
                        "; the last at seq " + std::to_string(last_checkpoint_->first) + " (" +
                        last_checkpoint_->second + "), followed by " + plural(after, "record"));
        if (after > 0)
            result_.warnings.push_back(plural(after, "record") + " after the last checkpoint (seq " +
                                       std::to_string(last_checkpoint_->first) +
                                       ") not covered by a signature: the gateway did not stop cleanly, or records "
                                       "were cut from the end");
    }

    const VerifyKey* key_;
    VerifyOptions options_;
    VerifyResult result_;
    bool ends_in_checkpoint_ = false;      // the current file's last line so far is a checkpoint
    std::string last_file_;                // where the last record is
    std::uint64_t last_line_ = 0;
    std::string last_ts_;                  // and its ts
    std::optional<ChainState> chain_;      // where the chain stands after the last record
    std::uint64_t first_seq_ = 0;
    std::uint64_t records_ = 0;
    std::optional<FileEnd> previous_;      // the file walked before the current one
    std::optional<TornLine> torn_;         // a torn line not yet accounted for
    std::uint64_t checkpoints_ = 0;
    std::optional<std::pair<std::uint64_t, std::string>> last_checkpoint_;  // seq, ts
};

}  // namespace

VerifyResult verify_files(const std::vector<std::filesystem::path>& files, const VerifyKey* key) {
    return Verifier(key, VerifyOptions{}).run(files);
}

VerifyResult verify_files(const std::vector<std::filesystem::path>& files, const VerifyKey* key,
                          const VerifyOptions& options) {
    return Verifier(key, options).run(files);
}

}  // namespace giosg::audit
