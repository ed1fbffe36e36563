// audit verify (README "Verifying"): verify_files on every case of audit_fixture.hpp — each kind
// of tampering gives exit 1 and names the first bad line — and the `audit` subcommands.
#include "audit/verify.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/record.hpp"
#include "audit/signing.hpp"
#include "audit/writer.hpp"
#include "audit_fixture.hpp"
#include "cli/audit_commands.hpp"

namespace giosg::audit {
namespace {

namespace fs = std::filesystem;
using fixture::AuditCase;

bool contains(const std::vector<std::string>& lines, std::string_view text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    return text;
}

class VerifyFiles : public ::testing::Test {
protected:
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// Builds the fixture case `name` and verifies it; checks the exit code and the location.
    VerifyResult check(const std::string& name) {
        const auto& cases = fixture::audit_cases();
        const auto found = std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.first == name; });
        EXPECT_NE(found, cases.end()) << name;
        if (found == cases.end()) return {};
        const AuditCase c = found->second(dir_ / name, keys_);
        std::optional<VerifyKey> key;
        if (c.public_key) key = VerifyKey::load(*c.public_key);
        auto result = verify_files(c.files, key ? &*key : nullptr);
        EXPECT_EQ(result.exit_code, c.exit_code) << result.problem;
        if (c.location.empty() && c.exit_code == 0) {
            EXPECT_EQ(result.problem, "");
        } else if (!c.location.empty()) {
            EXPECT_TRUE(result.problem.starts_with(c.location + ": ")) << "expected at " << c.location << ", got "
                                                                       << result.problem;
        }
        return result;
    }

    const fs::path& dir() const { return dir_; }
    const fixture::Keys& keys() const { return keys_; }

private:
    static fs::path make_dir() {
        std::string pattern = (fs::temp_directory_path() / "giosg-audit-verify-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        return pattern;
    }

    fs::path dir_ = make_dir();
    fixture::Keys keys_{dir_};
};

// --- intact chains -------------------------------------------------------------------------------

TEST_F(VerifyFiles, IntactSignedChainSaysWhatWasChecked) {
    const auto r = check("intact");
    EXPECT_TRUE(contains(r.notes, "intact: 20 records in 3 files, seq 1..20")) << joined(r.notes);
    EXPECT_TRUE(contains(r.notes, "3 checkpoints verified with key_id " + keys().signer.key_id())) << joined(r.notes);
    EXPECT_TRUE(contains(r.notes, "the last at seq 20 (2026-11-28T03:12:28.412Z), followed by 0 records"))
        << joined(r.notes);
    EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
}

TEST_F(VerifyFiles, WithoutAKeyCheckpointsAreChainCheckedOnlyAndTheReportSaysSo) {
    const auto r = check("intact_without_key");
    EXPECT_TRUE(contains(r.notes, "checkpoint signatures not checked (no --public-key)")) << joined(r.notes);
}

TEST_F(VerifyFiles, FilesInShuffledOrderArePutInChainOrder) { check("files_in_shuffled_order"); }

TEST_F(VerifyFiles, ChainContinuingFromAFileNotGivenIsIntactAndNoted) {
    const auto r = check("continues_from_a_file_not_given");
    EXPECT_TRUE(contains(r.notes, "continues the chain from audit.jsonl.000000000006, which was not given: seq 1..6"))
        << joined(r.notes);
    EXPECT_TRUE(contains(r.notes, "intact: 14 records in 2 files, seq 7..20")) << joined(r.notes);
}

TEST_F(VerifyFiles, EmptyFileIsNotedAndIgnored) {
    const auto r = check("empty_file_ignored");
    EXPECT_TRUE(contains(r.notes, "audit.jsonl.empty: empty, ignored")) << joined(r.notes);
}

TEST_F(VerifyFiles, GapRecordIsAWarningNotTampering) {
    const auto r = check("gap_record");
    EXPECT_TRUE(contains(r.warnings, ":2: the writer dropped 3 records here")) << joined(r.warnings);
}

TEST_F(VerifyFiles, CorrectionRecordIsPartOfTheChain) { EXPECT_EQ(check("correction_record").exit_code, 0); }

TEST_F(VerifyFiles, CorrectionRecordWithoutItsStatusIsTampering) {
    EXPECT_EQ(check("correction_record_without_status").exit_code, 1);
}

TEST_F(VerifyFiles, TornLineAccountedForByTheNextRotationRecordIsIntact) {
    const auto r = check("torn_line_accounted_for");
    EXPECT_TRUE(contains(r.notes, "audit.jsonl.000000000006:7: torn line (60 bytes, a crash mid-write) accounted for"))
        << joined(r.notes);
}

TEST_F(VerifyFiles, TailCutAfterTheLastCheckpointIsAWarningWithAKey) {
    const auto r = check("tail_cut_after_the_last_checkpoint");
    EXPECT_TRUE(contains(r.warnings, "5 records after the last checkpoint (seq 13) not covered by a signature"))
        << joined(r.warnings);
}

TEST_F(VerifyFiles, BrokenSignatureGoesUnnoticedWithoutAKeyButTheReportSaysSignaturesWereNotChecked) {
    const auto r = check("bad_checkpoint_signature_without_key");
    EXPECT_TRUE(contains(r.notes, "checkpoint signatures not checked")) << joined(r.notes);
}

// --- crashes ------------------------------------------------------------------------------------

TEST_F(VerifyFiles, TornTailInTheLastFileExitsThree) {
    const auto r = check("torn_tail_in_the_last_file");
    EXPECT_NE(r.problem.find("torn last line (50 bytes)"), std::string::npos) << r.problem;
    EXPECT_TRUE(contains(r.notes, "intact up to the torn last line: 20 records")) << joined(r.notes);
}

TEST_F(VerifyFiles, TornLineInTheMiddleNotAccountedForIsTampering) {
    const auto r = check("torn_line_in_the_middle");
    EXPECT_NE(r.problem.find("not accounted for"), std::string::npos) << r.problem;
}

// --- tampering ----------------------------------------------------------------------------------

TEST_F(VerifyFiles, EditedFieldIsNamedAtItsLine) {
    const auto r = check("edited_field");
    EXPECT_NE(r.problem.find("hash does not match"), std::string::npos) << r.problem;
    EXPECT_TRUE(r.notes.empty());
}

TEST_F(VerifyFiles, EditedHashIsNamedAtItsLine) { check("edited_hash"); }

TEST_F(VerifyFiles, DeletedRecordIsNamedAtTheLineAfterTheGap) {
    const auto r = check("deleted_record");
    EXPECT_NE(r.problem.find("seq 10, expected 9"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, DuplicatedRecordIsNamedAtTheCopy) { check("duplicated_record"); }

TEST_F(VerifyFiles, ReorderedPairIsNamedAtTheFirstOfThem) { check("reordered_pair"); }

TEST_F(VerifyFiles, InsertedRecordWithARecomputedHashBreaksTheRecordAfterIt) { check("inserted_forged_record"); }

TEST_F(VerifyFiles, FileMissingFromTheMiddleIsNamedAtTheRotationRecordAfterIt) {
    const auto r = check("file_missing_from_the_middle");
    EXPECT_NE(r.problem.find("links to \"audit.jsonl.000000000013\""), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, ForeignFileInTheMiddleDoesNotLink) {
    const auto r = check("foreign_file_in_the_middle");
    EXPECT_NE(r.problem.find("prev is not the hash of the record before it"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, FileOfAnotherChainStartingAtTheSameSeqIsForeign) {
    const auto r = check("foreign_chain_start");
    EXPECT_NE(r.problem.find("starts at seq 1 like"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, BrokenCheckpointSignatureIsTampering) {
    const auto r = check("bad_checkpoint_signature");
    EXPECT_NE(r.problem.find("checkpoint signature does not verify"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, CheckpointSignedByAnotherKeyIsTampering) {
    const auto r = check("checkpoint_signed_by_another_key");
    EXPECT_NE(r.problem.find("checkpoint signed by another key (key_id " + keys().other_signer.key_id() + ")"),
              std::string::npos)
        << r.problem;
}

TEST_F(VerifyFiles, RecordAppendedToARotatedFileBreaksThePreviousBytesLink) {
    const auto r = check("record_appended_to_a_rotated_file");
    EXPECT_NE(r.problem.find("had "), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, LineThatIsNotARecordIsTampering) { check("line_that_is_not_a_record"); }

TEST_F(VerifyFiles, LineLongerThanTheBoundIsTampering) {
    const auto r = check("line_too_long");
    EXPECT_NE(r.problem.find("line longer than 1 MiB"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, UnknownRecordKindIsTampering) { check("unknown_record_kind"); }

TEST_F(VerifyFiles, RequestRecordWithoutAContractMemberIsTampering) {
    const auto r = check("request_record_without_a_member");
    EXPECT_NE(r.problem.find("\"upstream_ms\""), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, ChainStartingInTheMiddleWithoutARotationRecordIsTampering) {
    check("chain_that_starts_in_the_middle");
}

TEST_F(VerifyFiles, UnreadableFileExitsTwo) {
    const auto r = check("unreadable_file");
    EXPECT_NE(r.problem.find("no-such-file: cannot read"), std::string::npos) << r.problem;
}

TEST_F(VerifyFiles, EveryFixtureCaseHasItsTest) {
    // The integration test runs every case through the binary and the Python verifier too.
    for (const auto& [name, build] : fixture::audit_cases()) {
        SCOPED_TRACE(name);
        check(name);
    }
}

TEST_F(VerifyFiles, FileWithOnlyATornLineIsTheTornTail) {
    auto set = fixture::rotated_chain(keys().signer);
    const auto paths = fixture::write_set(dir() / "torn-only", set);
    const auto torn = dir() / "torn-only" / "audit.jsonl.new";
    fixture::write_file(torn, "{\"seq\":21,\"prev\":\"");
    const auto r = verify_files({torn, paths[0], paths[1], paths[2]}, nullptr);
    EXPECT_EQ(r.exit_code, verify_exit::torn_tail) << r.problem;
    EXPECT_TRUE(r.problem.starts_with(torn.string() + ":1: ")) << r.problem;
}

TEST_F(VerifyFiles, NoFilesWithRecordsIsIntactButSaysSo) {
    const auto empty = dir() / "empty.jsonl";
    fixture::write_file(empty, "");
    const auto r = verify_files({empty}, nullptr);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(contains(r.notes, "no records")) << joined(r.notes);
}

// --- what the writer leaves -----------------------------------------------------------------------

TEST_F(VerifyFiles, FilesTheWriterLeavesAcrossRotationCrashAndRestartVerifyWithItsKey) {
    using namespace std::chrono_literals;
    const auto path = dir() / "writer" / "audit.jsonl";
    fs::create_directories(path.parent_path());
    const auto options = [&] {
        AuditWriter::Options o;
        o.path = path;
        o.flush_interval = 5ms;
        o.signing_key_file = keys().files.private_key;
        return o;
    };
    const auto submit = [](AuditWriter& writer, AuditRing& ring, int n) {
        const auto request_id = "req-" + std::to_string(n);
        AuditRecord record;
        record.ts = std::chrono::system_clock::now();
        record.request_id = request_id;
        record.remote = "127.0.0.1:4000";
        record.method = "GET";
        record.path = "/api/v5/users/me";
        record.code = Reason::not_authenticated;
        record.status = 401;
        std::string line;
        append_audit_json(record, line);
        writer.submit(ring, line);
    };
    const auto eventually = [](const auto& done) {
        for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(2ms);
        return done();
    };
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        writer.start();
        for (int i = 0; i < 5; ++i) submit(writer, ring, i);
        ASSERT_TRUE(eventually([&] { return writer.lines_written() >= 5; }));
        writer.request_rotation();
        ASSERT_TRUE(eventually([&] { return writer.rotations() == 1; }));
        for (int i = 5; i < 8; ++i) submit(writer, ring, i);
    }
    // A crash in the middle of a line, then a restart: the torn file is sealed and accounted for.
    fixture::write_file(path, fixture::read_file(path) + "{\"seq\":99,\"prev\":\"0");
    {
        AuditWriter writer(options());
        auto& ring = writer.add_producer();
        for (int i = 8; i < 10; ++i) submit(writer, ring, i);
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path.parent_path())) files.push_back(entry.path());
    ASSERT_EQ(files.size(), 3u);
    const auto key = VerifyKey::load(keys().files.public_key);
    const auto r = verify_files(files, &key);
    EXPECT_EQ(r.exit_code, 0) << r.problem;
    EXPECT_TRUE(contains(r.notes, "torn line (19 bytes, a crash mid-write) accounted for")) << joined(r.notes);
    EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
}

// --- the `audit` subcommands --------------------------------------------------------------------

struct CommandResult {
    int exit_code;
    std::string out;
    std::string err;
};

CommandResult audit_command(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = cli::run_audit_command(args, out, err);
    return {code, out.str(), err.str()};
}

TEST_F(VerifyFiles, VerifyCommandPrintsTheProblemOnStderrAndNotesOnStdout) {
    auto set = fixture::rotated_chain(keys().signer);
    const auto paths = fixture::write_set(dir() / "cmd", set);
    const auto ok = audit_command({"verify", "--public-key", keys().files.public_key.string(), paths[2].string(),
                                   paths[0].string(), paths[1].string()});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_NE(ok.out.find("intact: 20 records in 3 files"), std::string::npos) << ok.out;
    EXPECT_EQ(ok.err, "");

    fixture::edit_lines(set[fixture::C], [](auto& lines) { lines.resize(lines.size() - 1); });
    fixture::write_file(paths[2], set[fixture::C].text);
    const auto cut = audit_command({"verify", "--public-key=" + keys().files.public_key.string(), paths[0].string(),
                                    paths[1].string(), paths[2].string()});
    EXPECT_EQ(cut.exit_code, 0) << cut.err;
    EXPECT_TRUE(cut.err.starts_with("warning: 6 records after the last checkpoint")) << cut.err;

    fixture::write_file(paths[2], set[fixture::C].text + "{\"seq\":");
    const auto torn = audit_command({"verify", paths[0].string(), paths[1].string(), paths[2].string()});
    EXPECT_EQ(torn.exit_code, 3);
    EXPECT_TRUE(torn.err.starts_with(paths[2].string() + ":7: torn last line")) << torn.err;
    EXPECT_NE(torn.out.find("intact up to the torn last line"), std::string::npos) << torn.out;
}

TEST_F(VerifyFiles, VerifyCommandUsageErrorsExitTwo) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {},
             {"verify"},
             {"verify", "--public-key"},
             {"verify", "--frobnicate", "a.jsonl"},
             {"verify", "--public-key", "a", "--public-key", "b", "a.jsonl"},
             {"frobnicate"},
             {"keygen"},
             {"keygen", "--out", "x", "extra"},
         }) {
        const auto r = audit_command(args);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        // One line naming the problem, then the audit commands' usage.
        EXPECT_TRUE(r.err.starts_with("giosg-gateway: audit: ")) << r.err;
        EXPECT_NE(r.err.find("\n\nUsage:\n  giosg-gateway audit verify"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(VerifyFiles, VerifyCommandWithAnUnreadableKeyExitsTwo) {
    const auto paths = fixture::write_set(dir() / "nokey", fixture::rotated_chain(keys().signer));
    const auto r = audit_command({"verify", "--public-key", (dir() / "missing.pub").string(), paths[0].string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.pub"), std::string::npos) << r.err;
}

TEST_F(VerifyFiles, KeygenWritesAPrivateKeyOnlyTheOwnerCanReadAndRefusesToOverwrite) {
    const auto prefix = (dir() / "gateway-audit").string();
    const auto r = audit_command({"keygen", "--out", prefix});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto signer = SigningKey::load(prefix + ".key");
    const auto verifier = VerifyKey::load(prefix + ".pub");
    EXPECT_EQ(signer.key_id(), verifier.key_id());
    EXPECT_TRUE(r.out.starts_with("key_id " + signer.key_id() + "\n")) << r.out;
    EXPECT_TRUE(verifier.verify_hex("m", signer.sign_hex("m")));

    const auto private_pem = fixture::read_file(prefix + ".key");
    const auto again = audit_command({"keygen", "--out", prefix});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
    EXPECT_EQ(fixture::read_file(prefix + ".key"), private_pem) << "the key was overwritten";

    // Only the public half there: still refused, and no private key written beside it.
    const auto half = (dir() / "half").string();
    fixture::write_file(half + ".pub", "x");
    EXPECT_EQ(audit_command({"keygen", "--out", half}).exit_code, 1);
    EXPECT_FALSE(fs::exists(half + ".key"));
}

TEST_F(VerifyFiles, KeygenKeySignsCheckpointsThatVerify) {
    const auto prefix = (dir() / "k").string();
    ASSERT_EQ(audit_command({"keygen", "--out", prefix}).exit_code, 0);
    const auto signer = SigningKey::load(prefix + ".key");
    const auto paths = fixture::write_set(dir() / "signed", fixture::rotated_chain(signer));
    const auto r = audit_command({"verify", "--public-key", prefix + ".pub", paths[0].string(), paths[1].string(),
                                  paths[2].string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // The private key file is accepted as --public-key too.
    EXPECT_EQ(audit_command({"verify", "--public-key", prefix + ".key", paths[0].string()}).exit_code, 0);
}

}  // namespace
}  // namespace giosg::audit
