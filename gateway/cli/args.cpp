#include "cli/args.hpp"

#include <algorithm>
#include <optional>

namespace giosg::cli {

std::string parse_args(std::span<const std::string> args, std::initializer_list<std::string_view> value_options,
                       Args& out) {
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (!options_done && arg == "--") {
            options_done = true;  // what follows is positional, even "--name" (a file name)
            continue;
        }
        if (options_done || arg.size() <= 2 || !arg.starts_with("--")) {
            out.positional.push_back(arg);
            continue;
        }
        const std::size_t eq = arg.find('=');
        const std::string name = arg.substr(0, eq);
        if (std::find(value_options.begin(), value_options.end(), name) == value_options.end())
            return "unknown option " + name;
        std::string value;
        if (eq != std::string::npos) value = arg.substr(eq + 1);
        else if (i + 1 < args.size()) value = args[++i];
        else return "option " + name + " needs a value";
        if (out.has(name)) return "option " + name + " given twice";
        out.options.emplace(name, std::move(value));
    }
    return {};
}

std::string check_shape(const Args& args, std::initializer_list<std::string_view> allowed, std::size_t positional) {
    for (const auto& [name, value] : args.options) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
            return "option " + name + " is not valid for this command";
    }
    if (args.positional.size() != positional)
        return "expected " + std::to_string(positional) + " argument(s), got " + std::to_string(args.positional.size());
    return {};
}

}  // namespace giosg::cli
