#pragma once
// The command line of docs/reference.md §1. main() only calls run_cli.
#include <iosfwd>
#include <string>
#include <vector>

namespace giosg::cli {

/// Runs one command; returns the process exit code. Output goes to `out`/`err`; `in` is read by
/// `hash-key`.
int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err);

/// The usage text printed by --help (and, on a usage error, to stderr).
std::string usage();

}  // namespace giosg::cli
