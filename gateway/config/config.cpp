// parse_config() and load_config(): the JSON text read, then each section validated in document
// order (json_reader.hpp, sections.hpp). Credentials are loaded separately (credentials.cpp).
#include "config/config.hpp"

#include "common/hex.hpp"

#include <system_error>

#include "config/json_reader.hpp"
#include "config/read_file.hpp"
#include "config/sections.hpp"

namespace giosg {
namespace {

constexpr std::size_t kMaxConfigFileBytes = 16 * 1024 * 1024;

void read_sections(const boost::json::object& document, Config& config, config_detail::ErrorList& errors) {
    using namespace config_detail;
    ObjectReader top(document, "", errors);
    CredentialNames credentials;
    read_listen(top, config);
    read_upstream(top, config);
    read_credentials(top, config, credentials);  // before the sections that refer to credentials
    read_jwt(top, config);  // before the clients, whose jwt_subject needs it
    read_transport(top, config);  // before the clients, whose mtls and unix_uid need it
    read_clients(top, credentials, config);
    read_policy(top, credentials, config);
    read_audit(top, config);
    read_limits(top, config);
    read_operations(top, config);
    read_rate_limits(top, config);
    top.reject_unknown_keys();
}

}  // namespace

ConfigResult parse_config(std::string_view text, const std::filesystem::path& base_dir) {
    config_detail::ErrorList errors;
    ConfigResult result;
    const std::optional<boost::json::value> document = config_detail::parse_json(text, errors);
    if (document && !document->is_object()) errors.add("", "the configuration must be a JSON object");
    if (document && document->is_object()) {
        Config config;
        std::error_code ec;
        config.base_dir = base_dir.is_absolute() ? base_dir : std::filesystem::absolute(base_dir, ec);
        if (ec) config.base_dir = base_dir;
        read_sections(document->get_object(), config, errors);
        if (errors.empty()) result.config = std::move(config);
    }
    result.errors = errors.take();
    return result;
}

ConfigResult load_config(const std::filesystem::path& file) {
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(file, ec);
    if (ec) absolute = file;
    std::string text;
    std::string error;
    if (!config_detail::read_file(absolute, kMaxConfigFileBytes, text, error)) {
        ConfigResult result;
        result.errors.push_back(ConfigError{"", std::move(error)});
        return result;
    }
    ConfigResult result = parse_config(text, absolute.parent_path());
    if (result.config) {
        result.config->file = std::move(absolute);
        result.config->file_sha256 = hex_encode(sha256(text));  // of these bytes: a FIFO is read once
    }
    return result;
}

}  // namespace giosg
