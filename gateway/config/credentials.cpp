// load_credentials(): the server-side tokens, read from the environment or from token files once
// the config is valid. The messages name the variable or file, never the token.
#include <algorithm>
#include <cstdlib>

#include "config/config.hpp"
#include "config/json_reader.hpp"
#include "config/read_file.hpp"

namespace giosg {
namespace {

constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;

/// A token goes into an Authorization header verbatim: visible ASCII only, so no header
/// injection and no stray BOM or space from an editor.
bool is_token_text(std::string_view token) noexcept {
    return std::all_of(token.begin(), token.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F;
    });
}

}  // namespace

CredentialResult load_credentials(const Config& config) {
    CredentialResult result;
    for (const auto& [name, credential] : config.credentials) {
        const std::string entry_path = config_detail::member_path("/credentials", name);
        std::string token;
        if (credential.source == CredentialConfig::Source::env) {
            const std::string path = entry_path + "/token_env";
            const std::string variable = "environment variable " + credential.env;
            const char* value = std::getenv(credential.env.c_str());
            if (value == nullptr) {
                result.errors.push_back({path, variable + " is not set"});
                continue;
            }
            token = value;
            if (token.empty()) {
                result.errors.push_back({path, variable + " is empty"});
                continue;
            }
            if (!is_token_text(token)) {
                result.errors.push_back(
                    {path, variable + " contains spaces, control characters or non-ASCII bytes"});
                continue;
            }
        } else {
            const std::string path = entry_path + "/token_file";
            const std::string file = "token file " + credential.file.string();
            std::string error;
            if (!config_detail::read_file(credential.file, kMaxTokenFileBytes, token, error)) {
                result.errors.push_back({path, std::move(error)});
                continue;
            }
            // Editors and `echo` add one line end; more than one is a mistake worth reporting.
            if (token.ends_with("\r\n")) {
                token.resize(token.size() - 2);
            } else if (token.ends_with('\n')) {
                token.pop_back();
            }
            if (token.empty()) {
                result.errors.push_back({path, file + " is empty"});
                continue;
            }
            if (!is_token_text(token)) {
                result.errors.push_back(
                    {path, file + " contains spaces, control characters or non-ASCII bytes"});
                continue;
            }
        }
        result.credentials.emplace(name, Secret(std::move(token)));
    }
    return result;
}

}  // namespace giosg
