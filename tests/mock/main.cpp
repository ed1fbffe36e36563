// giosg-mock: the fake giosg API as a process, for `deploy/dev.sh run` and manual testing.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "giosg_mock.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: giosg-mock --catalogue FILE [--listen HOST:PORT] [--token TOKEN | --token-env VAR]\n"
    "                  [--page-size N] [--tls-cert FILE --tls-key FILE] [--port-file FILE]\n"
    "                  [--fault SPEC] [--list-pages N] [--list-page-size K]\n"
    "\n"
    "  --catalogue FILE   giosg endpoint catalogue ({\"results\": [...]}) to serve and match\n"
    "  --listen HOST:PORT default 127.0.0.1:0 (0 = any free port)\n"
    "  --token TOKEN      require 'Authorization: Token TOKEN' (default: no check)\n"
    "  --token-env VAR    the same, with the token read from environment variable VAR\n"
    "  --page-size N      entries per /api/v5/endpoints page (default 25)\n"
    "  --tls-cert/--tls-key  serve HTTPS with this PEM certificate chain and key\n"
    "  --port-file FILE   write the chosen port there once listening\n"
    "  --fault SPEC       default fault, same syntax as the X-Mock-Fault header\n"
    "  --list-pages N     pages of GET /api/v5/orgs/<org>/teams, with absolute next/previous\n"
    "                     links on the mock's origin (default 3; gzip with Accept-Encoding: gzip)\n"
    "  --list-page-size K teams per page of it (default 2)\n";

struct Arguments {
  giosg::mock::MockOptions options;
  std::optional<std::filesystem::path> port_file;
  std::string fault;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t parse_number(std::string_view text, std::uint64_t max, std::string_view what) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) {
    throw UsageError("bad " + std::string(what) + " \"" + std::string(text) + "\"");
  }
  return value;
}

// "127.0.0.1:8080", "localhost:0", "[::1]:0".
void parse_listen(std::string_view listen, giosg::mock::MockOptions& options) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw UsageError("--listen wants HOST:PORT");
  std::string_view host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  options.host = std::string(host);
  options.port = static_cast<std::uint16_t>(parse_number(listen.substr(colon + 1), 65535, "port"));
}

Arguments parse_arguments(std::span<char*> args) {
  Arguments parsed;
  bool token_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(std::string(flag) + " needs a value");
      return args[++i];
    };
    if (flag == "--catalogue") {
      parsed.options.catalogue_file = value();
    } else if (flag == "--listen") {
      parse_listen(value(), parsed.options);
    } else if (flag == "--token" || flag == "--token-env") {
      if (token_given) throw UsageError("give one of --token and --token-env");
      token_given = true;
      std::string given = value();
      if (flag == "--token-env") {
        const char* from_env = std::getenv(given.c_str());
        if (from_env == nullptr || *from_env == '\0') {
          throw UsageError("environment variable " + given + " is not set");
        }
        given = from_env;
      }
      parsed.options.expected_token = given;
    } else if (flag == "--page-size") {
      parsed.options.page_size = parse_number(value(), 1'000'000, "page size");
      if (parsed.options.page_size == 0) throw UsageError("--page-size must be at least 1");
    } else if (flag == "--tls-cert") {
      parsed.options.tls_cert_file = value();
    } else if (flag == "--tls-key") {
      parsed.options.tls_key_file = value();
    } else if (flag == "--port-file") {
      parsed.port_file = value();
    } else if (flag == "--list-pages") {
      parsed.options.list_pages = parse_number(value(), 1'000'000, "list pages");
      if (parsed.options.list_pages == 0) throw UsageError("--list-pages must be at least 1");
    } else if (flag == "--list-page-size") {
      parsed.options.list_page_size = parse_number(value(), 100'000, "list page size");
    } else if (flag == "--fault") {
      parsed.fault = value();
    } else {
      throw UsageError("unknown argument \"" + std::string(flag) + "\"");
    }
  }
  if (parsed.options.catalogue_file.empty()) throw UsageError("--catalogue is required");
  if (parsed.options.tls_cert_file.has_value() != parsed.options.tls_key_file.has_value()) {
    throw UsageError("--tls-cert and --tls-key go together");
  }
  return parsed;
}

// Written beside and renamed, so that a script polling for the file never reads half of it.
void write_port_file(const std::filesystem::path& file, std::uint16_t port) {
  auto partial = file;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
  }
  std::filesystem::rename(partial, file);
}

}  // namespace

int main(int argc, char** argv) {
  std::span<char*> args(argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0));
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
  }

  Arguments arguments;
  try {
    arguments = parse_arguments(args);
  } catch (const UsageError& error) {
    std::cerr << "giosg-mock: " << error.what() << "\n\n" << kUsage;
    return 2;
  }

  // Block the stop signals before the mock's thread exists, so that it inherits the mask and
  // only sigwait below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    giosg::mock::GiosgMock mock(arguments.options);
    try {
      mock.set_default_fault(arguments.fault);
    } catch (const std::invalid_argument& error) {
      std::cerr << "giosg-mock: --fault: " << error.what() << "\n\n" << kUsage;
      return 2;
    }
    mock.start();
    if (arguments.port_file) write_port_file(*arguments.port_file, mock.port());
    std::cout << "giosg-mock listening on " << mock.origin() << std::endl;

    int received_signal = 0;
    sigwait(&stop_signals, &received_signal);
    mock.stop();
  } catch (const std::exception& error) {
    std::string_view what = error.what();
    if (what.starts_with("giosg-mock: ")) what.remove_prefix(12);  // the library's own messages
    std::cerr << "giosg-mock: " << what << std::endl;
    return 1;
  }
  return 0;
}
