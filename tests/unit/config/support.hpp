#pragma once
// What the config tests share: a minimal valid config to change one thing in, docs/reference.md §2's
// example, error formatting, a temp folder and an environment variable set for one test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp, setenv, unsetenv

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace giosg::config_test {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

inline const fs::path kBaseDir = "/etc/giosg-gateway";

// SHA-256 of "" -- any 64 hex digits would do.
inline constexpr std::string_view kDigestHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

inline std::string digest_of(char hex_digit) { return "sha256:" + std::string(64, hex_digit); }

// docs/reference.md §2's example, comments and trailing commas as written there.
inline constexpr std::string_view kContractExample = R"jsonc({
  "listen": "127.0.0.1:8080",          // host:port; port 0 = any free port (the chosen one is logged)
  "admin_listen": "127.0.0.1:9901",    // /healthz /readyz /metrics; optional
  "workers": 0,                        // 0 = one per CPU core
  "upstream": {
    "url": "https://service.giosg.com", // http:// allowed (tests, sidecar to a local mock)
    "ca_file": null,                    // default: system trust store; verification is always on for https
    "connect_timeout_ms": 3000,
    "timeout_ms": 30000                 // from forwarding until the upstream's response head
  },
  "credentials": {                      // server-side giosg API tokens; never logged, never sent to clients
    "acme": { "token_env": "GIOSG_API_TOKEN" },      // or
    "beta": { "token_file": "/run/secrets/giosg-beta" }
  },
  "clients": {                          // internal callers
    "billing": {
      "key_sha256": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "credential": "acme",             // which server token this client's calls carry
      "scopes": ["reports"],            // granted giosg permissions: settings, users, reports
      "organizations": ["7f9e9580-095b-42c7-838c-c04e667b26f7"]  // or ["*"]
    }
  },
  "policy": {
    "source": "upstream",               // "upstream": live GET /api/v5/endpoints; "file": snapshot only
    "file": "policies/giosg-v5-endpoints.json", // snapshot; fallback when the live fetch fails
    "credential": "acme",               // token used to fetch the catalogue
    "refresh_s": 3600                   // 0 = never refresh
  },
  "audit": { "path": "audit.jsonl" },   // "-" = stdout
  "limits": { "max_header_bytes": 16384, "max_body_bytes": 10485760,
              "header_timeout_ms": 10000, "idle_timeout_ms": 60000, },
})jsonc";

/// The smallest valid config; tests change one thing in it.
inline json::object minimal_config() {
    return json::parse(R"({
        "listen": "127.0.0.1:8080",
        "upstream": {"url": "https://service.giosg.com"},
        "credentials": {"acme": {"token_env": "GIOSG_API_TOKEN"}},
        "clients": {
            "billing": {
                "key_sha256": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "credential": "acme",
                "organizations": ["*"]
            }
        },
        "policy": {"credential": "acme"}
    })")
        .as_object();
}

inline json::object& section(json::object& config, std::string_view key) { return config.at(key).as_object(); }
inline json::object& billing(json::object& config) { return section(config, "clients").at("billing").as_object(); }

inline ConfigResult parse(const json::object& config) { return parse_config(json::serialize(config), kBaseDir); }

inline std::vector<std::string> error_lines(const ConfigResult& result) {
    std::vector<std::string> lines;
    for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
    return lines;
}

inline std::vector<std::string> errors_after(const std::function<void(json::object&)>& change) {
    json::object config = minimal_config();
    change(config);
    const ConfigResult result = parse(config);
    EXPECT_EQ(result.config.has_value(), result.errors.empty());
    return error_lines(result);
}

inline Config parsed_after(const std::function<void(json::object&)>& change) {
    json::object config = minimal_config();
    change(config);
    ConfigResult result = parse(config);
    EXPECT_THAT(error_lines(result), IsEmpty());
    return result.config.value_or(Config{});
}

/// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "giosg-config-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const fs::path& path() const noexcept { return path_; }

    fs::path write(const std::string& name, std::string_view content) const {
        const fs::path file = path_ / name;
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }

private:
    fs::path path_;
};

/// Sets (or with nullptr unsets) an environment variable for the lifetime of the object.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
        if (value == nullptr) {
            unsetenv(name_.c_str());
        } else {
            setenv(name_.c_str(), value, 1);
        }
    }
    ~ScopedEnv() { unsetenv(name_.c_str()); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
};

}  // namespace giosg::config_test
