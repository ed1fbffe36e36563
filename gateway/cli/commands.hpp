#pragma once
// The commands of cli.cpp, one file per group: cli.cpp parses and dispatches,
// inspect_commands.cpp answers check, explain, hash-key and policy, serve.cpp runs the gateway.
// Internal to cli/.
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "cli/args.hpp"
#include "config/config.hpp"
#include "upstream/catalogue_fetch.hpp"

namespace giosg::cli {

/// Prints "giosg-gateway: <why>", a blank line and the usage to `err`; returns 2.
int usage_error(std::ostream& err, const std::string& why);

struct Loaded {
    std::shared_ptr<const Config> config;
    CredentialSet credentials;
    PolicyLoad policy;
};

/// Loads the config, then (unless it failed) credentials and policy. Problems are printed one
/// per line and set `problems`; returns nullopt when the config itself is unusable.
std::optional<Loaded> load_everything(const std::string& file, std::ostream& err, bool& problems,
                                      bool credentials_required);

int cmd_check(const Args& a, std::ostream& out, std::ostream& err);
int cmd_explain(const Args& a, std::ostream& out, std::ostream& err);
int cmd_hash_key(std::istream& in, std::ostream& out, std::ostream& err);
/// Prints {"key": <256 random bits, base64url>, "key_sha256": "sha256:<hex>"}.
int cmd_gen_key(std::ostream& out, std::ostream& err);
int cmd_policy_fetch(const Args& a, std::ostream& out, std::ostream& err);
int cmd_policy_diff(const Args& a, std::ostream& out, std::ostream& err);
int cmd_serve(const Args& a, std::ostream& err);
/// probe live|ready: GET /healthz or /readyz on the config's admin listener; 0 when it answers 200.
int cmd_probe(const Args& a, std::ostream& out, std::ostream& err);

}  // namespace giosg::cli
