// `giosg-gateway audit verify` (the real binary) and tests/tools/verify_audit.py (the independent
// verifier a third party would read) on the same file sets: every case of audit_fixture.hpp must
// give both the expected exit code and name the same first bad line. Plus `audit keygen`.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "../unit/audit/audit_fixture.hpp"
#include "harness.hpp"

namespace giosg::testing {
namespace {

namespace fs = std::filesystem;
namespace fixture = audit::fixture;

const std::string kPythonVerifier = std::string(GIOSG_SOURCE_DIR) + "/tests/tools/verify_audit.py";

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string shell_quote(std::string_view s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

/// Runs `command` (already quoted) with stdout and stderr captured in `dir`.
RunResult run_shell(const fs::path& dir, const std::string& command) {
    const auto out = dir / "stdout.txt";
    const auto err = dir / "stderr.txt";
    const auto full = "timeout 60 " + command + " </dev/null >" + shell_quote(out.string()) + " 2>" +
                      shell_quote(err.string());
    const int status = std::system(full.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, fixture::read_file(out), fixture::read_file(err)};
}

std::string command_line(std::string_view program, const std::vector<std::string>& args) {
    std::string command(program);
    for (const auto& arg : args) command += " " + shell_quote(arg);
    return command;
}

RunResult run_gateway(const fs::path& dir, const std::vector<std::string>& args) {
    return run_shell(dir, command_line(shell_quote(GIOSG_GATEWAY_BIN), args));
}

RunResult run_python(const fs::path& dir, const std::vector<std::string>& args, const std::string& env = {}) {
    return run_shell(dir, env + command_line("python3 " + shell_quote(kPythonVerifier), args));
}

std::vector<std::string> verify_args(const fixture::AuditCase& c) {
    std::vector<std::string> args;
    if (c.public_key) args = {"--public-key", c.public_key->string()};
    for (const auto& file : c.files) args.push_back(file.string());
    return args;
}

/// "FILE:LINE" of the problem line on stderr ("" when there is none).
std::string location_of(const std::string& err) {
    std::smatch m;
    static const std::regex problem(R"(^(.+?:\d+): )");
    const auto first_line = err.substr(0, err.find('\n'));
    if (first_line.starts_with("warning: ")) return {};
    return std::regex_search(first_line, m, problem) ? m[1].str() : std::string();
}

class AuditVerifyCli : public ::testing::Test {
protected:
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    const fs::path& dir() const { return dir_; }
    const fixture::Keys& keys() const { return keys_; }

private:
    fs::path dir_ = make_temp_dir("giosg-audit-cli");
    fixture::Keys keys_{dir_};
};

class AuditVerifyCase : public AuditVerifyCli, public ::testing::WithParamInterface<std::string> {};

TEST_P(AuditVerifyCase, BinaryAndPythonVerifierAgreeOnExitCodeAndFirstProblem) {
    const auto& cases = fixture::audit_cases();
    const auto found =
        std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.first == GetParam(); });
    ASSERT_NE(found, cases.end());
    const auto c = found->second(dir() / GetParam(), keys());
    const auto args = verify_args(c);

    auto gateway_args = args;
    gateway_args.insert(gateway_args.begin(), {"audit", "verify"});
    const auto gateway = run_gateway(dir(), gateway_args);
    const auto python = run_python(dir(), args);

    EXPECT_EQ(gateway.exit_code, c.exit_code) << "giosg-gateway stderr:\n" << gateway.err;
    EXPECT_EQ(python.exit_code, c.exit_code) << "verify_audit.py stderr:\n" << python.err;
    if (!c.location.empty()) {
        EXPECT_EQ(location_of(gateway.err), c.location) << gateway.err;
        EXPECT_EQ(location_of(python.err), c.location) << python.err;
    } else if (c.exit_code == 0) {
        EXPECT_EQ(location_of(gateway.err), "") << gateway.err;
        EXPECT_EQ(location_of(python.err), "") << python.err;
    }
}

std::vector<std::string> case_names() {
    std::vector<std::string> names;
    for (const auto& [name, build] : fixture::audit_cases()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Cases, AuditVerifyCase, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& test) { return test.param; });

TEST_F(AuditVerifyCli, KeygenThenVerifyWithThePublicKey) {
    const auto prefix = (dir() / "gateway-audit").string();
    const auto keygen = run_gateway(dir(), {"audit", "keygen", "--out", prefix});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    const auto signer = audit::SigningKey::load(prefix + ".key");
    EXPECT_NE(keygen.out.find("key_id " + signer.key_id()), std::string::npos) << keygen.out;
    struct stat st {};
    ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    const auto files = fixture::write_set(dir() / "chain", fixture::rotated_chain(signer));
    std::vector<std::string> args = {"--public-key", prefix + ".pub"};
    for (const auto& file : files) args.push_back(file.string());
    auto gateway_args = args;
    gateway_args.insert(gateway_args.begin(), {"audit", "verify"});
    const auto gateway = run_gateway(dir(), gateway_args);
    EXPECT_EQ(gateway.exit_code, 0) << gateway.err;
    EXPECT_NE(gateway.out.find("3 checkpoints verified with key_id " + signer.key_id()), std::string::npos)
        << gateway.out;
    const auto python = run_python(dir(), args);
    EXPECT_EQ(python.exit_code, 0) << python.err;

    // Another key pair's public key: the first checkpoint is named.
    ASSERT_EQ(run_gateway(dir(), {"audit", "keygen", "--out", (dir() / "second").string()}).exit_code, 0);
    args[1] = (dir() / "second.pub").string();
    gateway_args[3] = args[1];
    EXPECT_EQ(location_of(run_gateway(dir(), gateway_args).err), files[0].string() + ":6");
    EXPECT_EQ(location_of(run_python(dir(), args).err), files[0].string() + ":6");

    // keygen never overwrites a key.
    const auto again = run_gateway(dir(), {"audit", "keygen", "--out", prefix});
    EXPECT_EQ(again.exit_code, 1) << again.err;
}

TEST_F(AuditVerifyCli, PythonVerifierChecksSignaturesWithTheOpensslCommandLineWithoutCryptography) {
    // A `cryptography` package that cannot be imported, ahead of the real one.
    const auto shadow = dir() / "no-cryptography" / "cryptography";
    fs::create_directories(shadow);
    fixture::write_file(shadow / "__init__.py", "raise ImportError('hidden by the test')\n");
    const auto env = "env PYTHONPATH=" + shell_quote(shadow.parent_path().string()) + " ";

    for (const std::string name : {"intact", "bad_checkpoint_signature", "checkpoint_signed_by_another_key"}) {
        SCOPED_TRACE(name);
        const auto& cases = fixture::audit_cases();
        const auto found = std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.first == name; });
        ASSERT_NE(found, cases.end());
        const auto c = found->second(dir() / name, keys());
        const auto python = run_python(dir(), verify_args(c), env);
        EXPECT_EQ(python.exit_code, c.exit_code) << python.err;
        EXPECT_EQ(location_of(python.err), c.location) << python.err;
    }
    // The private key file works as --public-key there too.
    const auto c = fixture::audit_cases().front().second(dir() / "private", keys());
    auto args = verify_args(c);
    args[1] = keys().files.private_key.string();
    EXPECT_EQ(run_python(dir(), args, env).exit_code, 0);
}

TEST_F(AuditVerifyCli, UsageErrorsExitTwo) {
    EXPECT_EQ(run_gateway(dir(), {"audit", "verify"}).exit_code, 2);
    EXPECT_EQ(run_gateway(dir(), {"audit", "verify", "--frobnicate", "x"}).exit_code, 2);
    EXPECT_EQ(run_gateway(dir(), {"audit", "frobnicate"}).exit_code, 2);
    EXPECT_EQ(run_python(dir(), {}).exit_code, 2);
    EXPECT_EQ(run_python(dir(), {"--public-key", (dir() / "missing.pub").string(), "x"}).exit_code, 2);
}

// --- --require-signed ----------------------------------------------------------------------------

class RequireSigned : public AuditVerifyCli {
protected:
    /// The binary's answer; verify_audit.py must give the same exit code and first problem.
    RunResult verify(const std::vector<fs::path>& files, std::vector<std::string> options) {
        std::vector<std::string> args = {"--public-key", keys().files.public_key.string()};
        args.insert(args.end(), options.begin(), options.end());
        for (const auto& f : files) args.push_back(f.string());
        auto gateway_args = args;
        gateway_args.insert(gateway_args.begin(), {"audit", "verify"});
        const auto gateway = run_gateway(dir(), gateway_args);
        const auto python = run_python(dir(), args);
        EXPECT_EQ(python.exit_code, gateway.exit_code) << "verify_audit.py:\n" << python.err;
        if (gateway.exit_code != 2) {
            EXPECT_EQ(location_of(python.err), location_of(gateway.err)) << python.err;
        }
        return gateway;
    }
};

TEST_F(RequireSigned, ATrailKeptByTheWriterPasses) {
    const auto files = fixture::write_set(dir() / "kept", fixture::rotated_chain(keys().signer));
    const auto r = verify(files, {"--require-signed"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(RequireSigned, ATrailRechainedWithItsCheckpointsDroppedFails) {
    // What an attacker without the key can produce: the same records, chained anew, no checkpoint.
    fixture::ChainBuilder chain;
    std::string text;
    for (int i = 0; i < 5; ++i) text += chain.request();
    const auto files = fixture::write_set(dir() / "rechained", {{"audit.jsonl", text}});
    const auto lenient = verify(files, {});
    EXPECT_EQ(lenient.exit_code, 0) << "without --require-signed a missing checkpoint is a warning";
    EXPECT_NE(lenient.err.find("warning: no checkpoint"), std::string::npos) << lenient.err;
    const auto strict = verify(files, {"--require-signed"});
    EXPECT_EQ(strict.exit_code, 1) << strict.err;
    EXPECT_EQ(location_of(strict.err), files[0].string() + ":5") << strict.err;
    EXPECT_NE(strict.err.find("no record is covered by a valid checkpoint"), std::string::npos) << strict.err;
}

TEST_F(RequireSigned, ASignatureOfAnotherKeyFails) {
    const auto files = fixture::write_set(dir() / "resigned", fixture::rotated_chain(keys().other_signer));
    EXPECT_EQ(verify(files, {"--require-signed"}).exit_code, 1);
}

TEST_F(RequireSigned, ARotatedFileThatDoesNotEndInACheckpointFails) {
    // The first file's closing checkpoint removed and everything after it chained anew.
    fixture::ChainBuilder chain(&keys().signer);
    std::string first;
    for (int i = 0; i < 5; ++i) first += chain.request();
    const std::string first_name = fixture::rotated_name(chain.state().seq);
    std::string active = chain.rotation(first_name, first.size());
    for (int i = 0; i < 5; ++i) active += chain.request();
    active += chain.checkpoint("shutdown");
    const auto files = fixture::write_set(dir() / "unsigned-rotated", {{first_name, first}, {"audit.jsonl", active}});
    EXPECT_EQ(verify(files, {}).exit_code, 0);
    const auto strict = verify(files, {"--require-signed"});
    EXPECT_EQ(strict.exit_code, 1) << strict.err;
    EXPECT_EQ(location_of(strict.err), files[0].string() + ":5") << strict.err;
}

TEST_F(RequireSigned, AnUnsignedTailLongerThanMaxUnsignedFails) {
    fixture::ChainBuilder chain(&keys().signer);  // records one second apart
    std::string text;
    for (int i = 0; i < 3; ++i) text += chain.request();
    text += chain.checkpoint("interval");
    for (int i = 0; i < 150; ++i) text += chain.request();  // 150 s after the checkpoint
    const auto files = fixture::write_set(dir() / "tail", {{"audit.jsonl", text}});
    const auto strict = verify(files, {"--require-signed"});
    EXPECT_EQ(strict.exit_code, 1) << strict.err;
    EXPECT_EQ(location_of(strict.err), files[0].string() + ":154") << strict.err;
    EXPECT_NE(strict.err.find("more than --max-unsigned-s 120"), std::string::npos) << strict.err;
    EXPECT_EQ(verify(files, {"--require-signed", "--max-unsigned-s", "200"}).exit_code, 0);
    EXPECT_EQ(verify(files, {"--require-signed", "--max-unsigned-s=149"}).exit_code, 1);
}

TEST_F(RequireSigned, UsageErrorsExitTwo) {
    const auto files = fixture::write_set(dir() / "usage", fixture::rotated_chain(keys().signer));
    EXPECT_EQ(run_gateway(dir(), {"audit", "verify", "--require-signed", files[0].string()}).exit_code, 2)
        << "--require-signed without --public-key";
    EXPECT_EQ(run_python(dir(), {"--require-signed", files[0].string()}).exit_code, 2);
    EXPECT_EQ(verify(files, {"--max-unsigned-s", "10"}).exit_code, 2) << "--max-unsigned-s alone";
    EXPECT_EQ(verify(files, {"--require-signed", "--max-unsigned-s", "ten"}).exit_code, 2);
    EXPECT_EQ(verify(files, {"--require-signed", "--require-signed"}).exit_code, 2);
}

}  // namespace
}  // namespace giosg::testing
