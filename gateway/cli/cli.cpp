#include "cli/cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <span>
#include <string_view>

#include "cli/allocator.hpp"
#include "cli/audit_commands.hpp"
#include "cli/commands.hpp"
#include "cli/io_backend.hpp"
#include "cli/logging.hpp"

namespace giosg::cli {

std::string usage() {
    return R"(giosg-gateway — authenticating reverse proxy and permission gateway for the giosg HTTP API

Usage:
  giosg-gateway serve --config FILE        run the gateway (also: giosg-gateway --config FILE)
  giosg-gateway check --config FILE        validate config, credentials and policy source; print a summary
  giosg-gateway explain --config FILE --client NAME METHOD TARGET
                                           print the decision `serve` would take, as JSON
  giosg-gateway policy fetch --config FILE [--out FILE]
                                           fetch the live catalogue (GET /api/v5/endpoints, all pages)
  giosg-gateway policy diff OLD NEW        compare two catalogues (exit 0 same, 1 different, 2 unreadable)
  giosg-gateway probe live|ready --config FILE
                                           ask the running gateway's admin listener (/healthz or /readyz);
                                           exit 0 when it answers 200 (container health checks)
  giosg-gateway hash-key                   read a client key on stdin, print sha256:<hex> for the config
  giosg-gateway gen-key                    print a new random client key and its sha256, as JSON
)" + std::string(audit_usage()) + R"(  giosg-gateway --help | --version

Exit codes: 0 success, 1 invalid input or failure, 2 usage error; audit verify: 3 intact but for a torn last line.
serve: SIGHUP (or POST /reload on the admin listener) reloads the config; SIGTERM/SIGINT drain and
exit; SIGUSR1 rotates the audit file. GIOSG_LOG_LEVEL overrides the config's log.level.
)";
}

int usage_error(std::ostream& err, const std::string& why) {
    err << "giosg-gateway: " << why << "\n\n" << usage();
    return 2;
}

namespace {

// Options that take a value; every other "--x" is unknown. Which command takes which is
// check_shape's business, so that a misplaced option is named as such.
const std::initializer_list<std::string_view> kValueOptions = {"--config", "--client", "--out"};

}  // namespace

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
    setup_logging();  // stderr only: stdout belongs to command output (explain's JSON, fetch's catalogue)
    if (args.size() < 2) return usage_error(err, "no command given");
    const std::string& cmd = args[1];
    const auto is_help = [](const std::string& a) { return a == "--help" || a == "-h"; };
    if (is_help(cmd) || cmd == "help" || cmd == "--version") {
        if (args.size() > 2) return usage_error(err, cmd + " takes no arguments");
    }
    if (is_help(cmd) || cmd == "help") {
        out << usage();
        return 0;
    }
    // `COMMAND --help` (also after other arguments) shows the usage, unless it is an option's
    // value; after an unknown command it is a usage error like any other.
    const bool known_command = cmd == "serve" || cmd == "check" || cmd == "explain" || cmd == "policy" ||
                               cmd == "audit" || cmd == "probe" || cmd == "hash-key" || cmd == "gen-key" || cmd.rfind("--", 0) == 0;
    for (std::size_t i = 2; known_command && i < args.size(); ++i) {
        const bool is_value = std::find(kValueOptions.begin(), kValueOptions.end(), args[i - 1]) != kValueOptions.end() ||
                              ((args[i - 1] == "--public-key" || args[i - 1] == "--max-unsigned-s") && cmd == "audit");
        if (is_help(args[i]) && !is_value) {
            out << usage();
            return 0;
        }
    }
    if (cmd == "--version") {
        out << "giosg-gateway " << GIOSG_GATEWAY_VERSION << " (" << allocator_name() << ", " << io_backend_name()
            << ")\n";
        return 0;
    }
    if (const auto problem = io_backend_problem()) {
        err << "giosg-gateway: " << *problem << "\n";
        return 1;
    }
    if (cmd == "audit") {
        return run_audit_command({args.begin() + 2, args.end()}, out, err);
    }
    // The arguments after the command (and subcommand) words, parsed once; then each command
    // checks which options and how many positionals it takes.
    const std::span<const std::string> all(args);
    const auto parse = [&](std::size_t from, Args& a) { return parse_args(all.subspan(from), kValueOptions, a); };
    Args a;
    std::string why;
    if (cmd == "hash-key") {
        if (why = parse(2, a); !why.empty()) return usage_error(err, why);
        if (why = check_shape(a, {}, 0); !why.empty()) return usage_error(err, why);
        return cmd_hash_key(in, out, err);
    }
    if (cmd == "gen-key") {
        if (why = parse(2, a); !why.empty()) return usage_error(err, why);
        if (why = check_shape(a, {}, 0); !why.empty()) return usage_error(err, why);
        return cmd_gen_key(out, err);
    }
    if (cmd == "policy") {
        if (args.size() < 3) return usage_error(err, "policy needs a subcommand: fetch or diff");
        if (why = parse(3, a); !why.empty()) return usage_error(err, why);
        if (args[2] == "fetch") {
            if (why = check_shape(a, {"--config", "--out"}, 0); !why.empty()) return usage_error(err, why);
            if (!a.has("--config")) return usage_error(err, "policy fetch needs --config FILE");
            return cmd_policy_fetch(a, out, err);
        }
        if (args[2] == "diff") {
            if (why = check_shape(a, {}, 2); !why.empty()) return usage_error(err, why);
            return cmd_policy_diff(a, out, err);
        }
        return usage_error(err, "unknown policy subcommand " + args[2]);
    }
    // serve is the default when the first argument is an option.
    const bool implicit_serve = cmd.rfind("--", 0) == 0;
    if (why = parse(implicit_serve ? 1 : 2, a); !why.empty()) return usage_error(err, why);
    if (cmd == "serve" || cmd == "check" || implicit_serve) {
        if (why = check_shape(a, {"--config"}, 0); !why.empty()) return usage_error(err, why);
        if (!a.has("--config")) return usage_error(err, "--config FILE is required");
        return cmd == "check" ? cmd_check(a, out, err) : cmd_serve(a, err);
    }
    if (cmd == "probe") {
        if (why = check_shape(a, {"--config"}, 1); !why.empty()) return usage_error(err, why);
        if (!a.has("--config")) return usage_error(err, "--config FILE is required");
        return cmd_probe(a, out, err);
    }
    if (cmd == "explain") {
        if (why = check_shape(a, {"--config", "--client"}, 2); !why.empty()) return usage_error(err, why);
        if (!a.has("--config")) return usage_error(err, "--config FILE is required");
        return cmd_explain(a, out, err);
    }
    return usage_error(err, "unknown command " + cmd);
}

}  // namespace giosg::cli
