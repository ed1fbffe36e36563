#pragma once
// `giosg-gateway audit …` (README "Verifying", "Signed checkpoints"):
//   audit verify [--public-key FILE] FILE...   exit 0 intact, 1 tampered, 2 usage/unreadable, 3 torn tail
//   audit keygen --out PREFIX                  writes PREFIX.key (mode 0600) and PREFIX.pub
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace giosg::cli {

/// Runs `audit ARGS...` (`args` is what follows `audit`); returns the exit code. A usage error
/// returns 2 after one line on `err` saying why (the caller prints the usage).
int run_audit_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// The usage lines of the audit subcommands, in the style of cli::usage().
std::string_view audit_usage();

}  // namespace giosg::cli
