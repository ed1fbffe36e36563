#include "cli/audit_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "audit/signing.hpp"
#include "audit/verify.hpp"
#include "cli/args.hpp"

namespace giosg::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kUsageError = 2;

// A usage error prints the audit commands' usage; a file that cannot be read (also exit 2) does not.
int usage_error(std::ostream& err, std::string_view why) {
    err << "giosg-gateway: audit: " << why << "\n\nUsage:\n" << audit_usage();
    return kUsageError;
}

int verify(const Args& parsed, bool require_signed, std::ostream& out, std::ostream& err) {
    if (parsed.positional.empty()) return usage_error(err, "verify: no files given");
    audit::VerifyOptions options;
    options.require_signed = require_signed;
    if (require_signed && !parsed.has("--public-key"))
        return usage_error(err, "verify: --require-signed needs --public-key FILE");
    if (parsed.has("--max-unsigned-s")) {
        if (!require_signed) return usage_error(err, "verify: --max-unsigned-s goes with --require-signed");
        const std::string& text = parsed.at("--max-unsigned-s");
        std::uint64_t seconds = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || seconds > 366ULL * 24 * 3600)
            return usage_error(err, "verify: --max-unsigned-s takes whole seconds (0 to one year)");
        options.max_unsigned = std::chrono::seconds(seconds);
    }
    std::optional<audit::VerifyKey> key;
    if (parsed.has("--public-key")) {
        try {
            key = audit::VerifyKey::load(parsed.at("--public-key"));
        } catch (const std::exception& e) {
            err << "giosg-gateway: audit verify: " << e.what() << "\n";
            return audit::verify_exit::unreadable;
        }
    }
    const std::vector<fs::path> files(parsed.positional.begin(), parsed.positional.end());
    const auto result = audit::verify_files(files, key ? &*key : nullptr, options);
    if (!result.problem.empty()) err << result.problem << "\n";
    for (const auto& note : result.notes) out << note << "\n";
    for (const auto& warning : result.warnings) err << "warning: " << warning << "\n";
    return result.exit_code;
}

/// Creates `file` with `mode`, failing when it exists (never overwrites a key).
void write_new_file(const fs::path& file, std::string_view text, mode_t mode) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + file.string());
    std::size_t written = 0;
    while (written < text.size()) {
        const auto n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            throw std::system_error(error, std::generic_category(), "cannot write " + file.string());
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot write " + file.string());
}

int keygen(const Args& parsed, std::ostream& out, std::ostream& err) {
    if (!parsed.has("--out")) return usage_error(err, "keygen: --out PREFIX is required");
    if (!parsed.positional.empty()) return usage_error(err, "keygen: unexpected argument " + parsed.positional.front());
    const fs::path private_file = parsed.at("--out") + ".key";
    const fs::path public_file = parsed.at("--out") + ".pub";
    for (const auto& file : {private_file, public_file}) {
        std::error_code ec;
        if (fs::exists(fs::symlink_status(file, ec))) {
            err << "giosg-gateway: audit keygen: " << file.string() << " exists; not overwriting it\n";
            return 1;
        }
    }
    try {
        const auto pair = audit::generate_key_pair();
        write_new_file(private_file, pair.private_pem, 0600);
        try {
            write_new_file(public_file, pair.public_pem, 0644);
        } catch (...) {
            std::error_code ec;
            fs::remove(private_file, ec);  // no half pair
            throw;
        }
        const auto key = audit::VerifyKey::load(public_file);
        out << "key_id " << key.key_id() << "\n"
            << "wrote " << private_file.string() << " (private, mode 0600: audit.signing_key_file) and "
            << public_file.string() << " (for audit verify --public-key)\n";
        return 0;
    } catch (const std::exception& e) {
        err << "giosg-gateway: audit keygen: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

std::string_view audit_usage() {
    return "  giosg-gateway audit verify [--public-key FILE [--require-signed [--max-unsigned-s N]]] FILE...\n"
           "                                           verify audit files: hash chain, links between rotated\n"
           "                                           files, checkpoint signatures (exit 0 intact, 1 tampered,\n"
           "                                           2 unreadable, 3 intact but the last line is torn);\n"
           "                                           --require-signed: also 1 when nothing is signed by the key,\n"
           "                                           a rotated file does not end in a checkpoint, or the records\n"
           "                                           after the last one span more than N s (default 120)\n"
           "  giosg-gateway audit keygen --out PREFIX  write an Ed25519 key pair for signed checkpoints:\n"
           "                                           PREFIX.key (mode 0600) and PREFIX.pub\n";
}

int run_audit_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.empty()) return usage_error(err, "needs a subcommand: verify or keygen");
    const std::span<const std::string> rest = std::span<const std::string>(args).subspan(1);
    Args parsed;
    if (args[0] == "verify") {
        // --require-signed is the one option without a value: taken out before the rest is parsed.
        std::vector<std::string> others;
        bool require_signed = false;
        bool options_done = false;
        for (const auto& arg : rest) {
            options_done = options_done || arg == "--";
            if (!options_done && arg == "--require-signed") {
                if (require_signed) return usage_error(err, "verify: option --require-signed given twice");
                require_signed = true;
            } else {
                others.push_back(arg);
            }
        }
        if (auto why = parse_args(others, {"--public-key", "--max-unsigned-s"}, parsed); !why.empty())
            return usage_error(err, "verify: " + why);
        return verify(parsed, require_signed, out, err);
    }
    if (args[0] == "keygen") {
        if (auto why = parse_args(rest, {"--out"}, parsed); !why.empty()) return usage_error(err, "keygen: " + why);
        return keygen(parsed, out, err);
    }
    return usage_error(err, "unknown subcommand " + args[0]);
}

}  // namespace giosg::cli
