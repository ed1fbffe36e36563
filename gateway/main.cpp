// giosg-gateway: wiring only; everything lives in the core library.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    return giosg::cli::run_cli(args, std::cin, std::cout, std::cerr);
}
