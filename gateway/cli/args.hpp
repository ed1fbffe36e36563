#pragma once
// The one argv parser of the command line (cli.cpp, audit_commands.cpp): `--name VALUE` and
// `--name=VALUE` options, positional arguments, `--` ending the options. Every option takes a
// value; the commands have no flags. Errors are usage errors (the callers exit 2).
// tests/mock/main.cpp keeps its own: giosg-mock links none of the gateway's libraries on purpose.
#include <cstddef>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace giosg::cli {

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string, std::less<>> options;  // "--config" -> value

    [[nodiscard]] bool has(std::string_view name) const { return options.find(name) != options.end(); }
    /// The value of option `name`; the caller checked has(name).
    [[nodiscard]] const std::string& at(std::string_view name) const { return options.find(name)->second; }
};

/// Splits `args` into options named in `value_options` and positionals. Returns the usage error
/// ("unknown option --x", "option --x needs a value", "option --x given twice"), empty when none.
std::string parse_args(std::span<const std::string> args, std::initializer_list<std::string_view> value_options,
                       Args& out);

/// Checks that only `allowed` options were given and exactly `positional` positionals. Returns
/// the usage error ("option --x is not valid for this command", "expected 2 argument(s), got 1").
std::string check_shape(const Args& args, std::initializer_list<std::string_view> allowed, std::size_t positional);

}  // namespace giosg::cli
