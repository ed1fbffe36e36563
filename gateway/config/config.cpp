#include "config/config.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

#include "common/ascii.hpp"
#include "common/format.hpp"
#include "common/hex.hpp"

namespace giosg {
namespace {

namespace json = boost::json;

// Bounds that keep a typo from becoming an outage or an overflow in a timer.
constexpr std::int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;  // one day
constexpr std::int64_t kMaxRefreshS = 365LL * 24 * 60 * 60;    // one year
constexpr std::int64_t kMaxWorkers = 1024;
constexpr std::int64_t kMaxIdleConnections = 65536;  // per worker: more would exhaust file descriptors
constexpr std::int64_t kMinHeaderBytes = 1024;
constexpr std::int64_t kMaxHeaderBytes = 1024 * 1024;
constexpr std::int64_t kMaxBodyBytes = 1024 * 1024 * 1024;
constexpr std::size_t kMaxConfigFileBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;
constexpr std::size_t kMaxNameLength = 64;
constexpr std::int64_t kMinRotateBytes = 4096;                    // below this a file holds a handful of records
constexpr std::int64_t kMaxRotateBytes = 1LL << 40;
constexpr std::int64_t kMaxKeepFiles = 100000;
constexpr std::int64_t kMaxSyslogQueue = 1000000;

// ---- JSON pointers (RFC 6901) ----------------------------------------------------------------

std::string pointer_token(std::string_view key) {
    std::string token;
    token.reserve(key.size());
    for (char c : key) {
        if (c == '~') {
            token += "~0";
        } else if (c == '/') {
            token += "~1";
        } else {
            token += c;
        }
    }
    return token;
}

std::string member_path(std::string_view parent, std::string_view key) {
    std::string path(parent);
    path += '/';
    path += pointer_token(key);
    return path;
}

std::string element_path(std::string_view parent, std::size_t index) {
    std::string path(parent);
    path += '/';
    path += std::to_string(index);
    return path;
}

/// A user-supplied string as it appears in a message: JSON-quoted, so that control characters or
/// quotes in it cannot make the message ambiguous. Only for values that are never secrets.
std::string json_quoted(std::string_view text) {
    return json::serialize(json::string_view(text.data(), text.size()));
}

class ErrorList {
public:
    void add(std::string path, std::string message) {
        errors_.push_back(ConfigError{std::move(path), std::move(message)});
    }
    void append(ErrorList&& other) {
        std::move(other.errors_.begin(), other.errors_.end(), std::back_inserter(errors_));
        other.errors_.clear();
    }
    [[nodiscard]] bool empty() const noexcept { return errors_.empty(); }
    [[nodiscard]] std::vector<ConfigError> take() noexcept { return std::move(errors_); }

private:
    std::vector<ConfigError> errors_;
};

// ---- JSON text -> value, with the checks boost::json::parse does not make --------------------

/// SAX handler that only tracks where the parser is, to report duplicate object keys by their
/// JSON pointer. boost::json keeps the last of duplicate keys silently, which would let a second
/// "scopes" quietly replace the first.
class DuplicateKeyFinder {
public:
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

    explicit DuplicateKeyFinder(ErrorList& errors) : errors_(errors) {}

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return open(true); }
    bool on_object_end(std::size_t, json::error_code&) { return close(); }
    bool on_array_begin(json::error_code&) { return open(false); }
    bool on_array_end(std::size_t, json::error_code&) { return close(); }
    bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(json::string_view part, std::size_t, json::error_code&) {
        key_.append(part.data(), part.size());
        Frame& object = frames_.back();
        if (!object.keys.insert(key_).second) errors_.add(member_path(object.path, key_), "duplicate key");
        object.key = std::move(key_);
        key_.clear();
        return true;
    }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) { return value_done(); }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return value_done(); }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return value_done(); }
    bool on_double(double, json::string_view, json::error_code&) { return value_done(); }
    bool on_bool(bool, json::error_code&) { return value_done(); }
    bool on_null(json::error_code&) { return value_done(); }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

private:
    struct Frame {
        bool is_object = false;
        std::string path;
        std::set<std::string, std::less<>> keys;  // objects: keys seen so far
        std::string key;                          // objects: the member being parsed
        std::size_t index = 0;                    // arrays: the element being parsed
    };

    bool open(bool is_object) {
        Frame frame;
        frame.is_object = is_object;
        if (!frames_.empty()) {
            const Frame& parent = frames_.back();
            frame.path = parent.is_object ? member_path(parent.path, parent.key)
                                          : element_path(parent.path, parent.index);
        }
        frames_.push_back(std::move(frame));
        return true;
    }
    bool close() {
        frames_.pop_back();
        return value_done();
    }
    bool value_done() {
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
        return true;
    }

    ErrorList& errors_;
    std::vector<Frame> frames_;
    std::string key_;
};

std::string describe_position(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    const std::string_view before = text.substr(0, offset);
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t line_start = before.rfind('\n');
    const std::size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

json::parse_options config_parse_options() {
    json::parse_options options;
    options.allow_comments = true;
    options.allow_trailing_commas = true;
    return options;
}

/// Syntax errors end the parse with one error (path ""); duplicate keys are reported alongside
/// whatever the validation finds later.
std::optional<json::value> parse_json(std::string_view text, ErrorList& errors) {
    const json::parse_options options = config_parse_options();
    ErrorList duplicates;
    json::basic_parser<DuplicateKeyFinder> checker(options, duplicates);
    json::error_code ec;
    const std::size_t consumed = checker.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) ec = json::error::extra_data;
    if (ec) {
        errors.add("", "invalid JSON at " + describe_position(text, consumed) + ": " + ec.message());
        return std::nullopt;
    }
    errors.append(std::move(duplicates));
    json::value document = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
    if (ec) {  // not expected once the checker accepted the text
        errors.add("", "invalid JSON: " + ec.message());
        return std::nullopt;
    }
    return document;
}

// ---- typed access to a JSON object -----------------------------------------------------------

enum class Need : std::uint8_t { optional, required };

std::string integer_expectation(std::int64_t min, std::int64_t max, bool too_large) {
    if (min == 0 || min == 1) {
        if (too_large) return "must be at most " + std::to_string(max);
        return min == 0 ? "must be a non-negative integer" : "must be a positive integer";
    }
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

/// One JSON object being validated. It knows its own JSON pointer, fetches typed members, and
/// remembers which keys the schema asked for, so that reject_unknown_keys() can name every key
/// nobody asked for ("/upstream/tiemout_ms: unknown key").
class ObjectReader {
public:
    ObjectReader(const json::object& object, std::string path, ErrorList& errors)
        : object_(&object), path_(std::move(path)), errors_(&errors) {}

    /// The value at `path` as an object reader; an error (and nullopt) when it is not an object.
    static std::optional<ObjectReader> open(const json::value& value, std::string path, ErrorList& errors) {
        if (const json::object* object = value.if_object()) {
            return ObjectReader(*object, std::move(path), errors);
        }
        errors.add(std::move(path), "must be an object");
        return std::nullopt;
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string path_of(std::string_view key) const { return member_path(path_, key); }
    [[nodiscard]] ErrorList& errors() const noexcept { return *errors_; }
    void error(std::string_view key, std::string message) const {
        errors_->add(path_of(key), std::move(message));
    }

    /// The member, or null when absent (an error when it is required).
    const json::value* get(std::string_view key, Need need = Need::optional) {
        known_.push_back(key);
        const json::value* value = object_->if_contains(json::string_view(key.data(), key.size()));
        if (value == nullptr && need == Need::required) error(key, "missing required key");
        return value;
    }

    /// Whether the member is there and not null (does not count as asking for it).
    [[nodiscard]] bool has_non_null(std::string_view key) const {
        const json::value* value = object_->if_contains(json::string_view(key.data(), key.size()));
        return value != nullptr && !value->is_null();
    }

    std::optional<ObjectReader> object(std::string_view key, Need need = Need::optional) {
        const json::value* value = get(key, need);
        if (value == nullptr) return std::nullopt;
        return open(*value, path_of(key), *errors_);
    }

    /// A string member; a JSON null counts as absent when `nullable`.
    std::optional<std::string> string(std::string_view key, Need need = Need::optional,
                                      bool nullable = false) {
        const json::value* value = get(key, need);
        if (value == nullptr || (nullable && value->is_null())) return std::nullopt;
        if (const json::string* text = value->if_string()) return std::string(text->data(), text->size());
        error(key, nullable ? "must be a string or null" : "must be a string");
        return std::nullopt;
    }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                        Need need = Need::optional) {
        const json::value* value = get(key, need);
        if (value == nullptr) return std::nullopt;
        if (const std::int64_t* number = value->if_int64()) {
            if (*number >= min && *number <= max) return *number;
            error(key, integer_expectation(min, max, *number > max));
        } else {
            // uint64 is above every bound we use; doubles (also 3000.0) are not integers here.
            error(key, integer_expectation(min, max, value->is_uint64()));
        }
        return std::nullopt;
    }

    std::optional<bool> boolean(std::string_view key) {
        const json::value* value = get(key);
        if (value == nullptr) return std::nullopt;
        if (const bool* flag = value->if_bool()) return *flag;
        error(key, "must be true or false");
        return std::nullopt;
    }

    /// A string member that must be one of `choices`; returns its index.
    std::optional<std::size_t> choice(std::string_view key, std::initializer_list<std::string_view> choices) {
        auto text = string(key);
        if (!text) return std::nullopt;
        std::size_t index = 0;
        std::string expected;
        for (const auto option : choices) {
            if (*text == option) return index;
            expected += (index == 0 ? "" : index + 1 == choices.size() ? " or " : ", ");
            expected += '"';
            expected += option;
            expected += '"';
            ++index;
        }
        error(key, "must be " + expected);
        return std::nullopt;
    }

    const json::array* array(std::string_view key, Need need = Need::optional) {
        const json::value* value = get(key, need);
        if (value == nullptr) return nullptr;
        if (const json::array* elements = value->if_array()) return elements;
        error(key, "must be an array");
        return nullptr;
    }

    /// Reports every key that no get() asked for.
    void reject_unknown_keys() const {
        for (const auto& member : *object_) {
            const std::string_view key(member.key().data(), member.key().size());
            if (std::find(known_.begin(), known_.end(), key) == known_.end()) error(key, "unknown key");
        }
    }

private:
    const json::object* object_;
    std::string path_;
    ErrorList* errors_;
    std::vector<std::string_view> known_;  // the schema's keys: string literals
};

// ---- small value checks ----------------------------------------------------------------------

// <cctype> would consult the locale; these are about ASCII only.
constexpr bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_ascii_alnum(char c) noexcept {
    return is_ascii_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/// Client and credential names end up in logs and metric labels.
bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameLength) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_env_var_name(std::string_view name) noexcept {
    if (name.empty() || is_ascii_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

/// A token goes into an Authorization header verbatim: visible ASCII only, so no header
/// injection and no stray BOM or space from an editor.
bool is_token_text(std::string_view token) noexcept {
    return std::all_of(token.begin(), token.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F;
    });
}

/// An organization id is compared with one raw path segment, so it must be able to be one.
bool is_path_segment(std::string_view id) noexcept {
    return std::all_of(id.begin(), id.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F && c != '/' && c != '\\' && c != '?' && c != '#';
    });
}

bool is_dns_name(std::string_view host) noexcept {
    if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; });
}

/// All-digit dotted names must be valid IPv4 addresses ("999.1.1.1" is a typo, not a host name).
bool looks_like_ipv4(std::string_view host) noexcept {
    return std::all_of(host.begin(), host.end(), [](char c) { return is_ascii_digit(c) || c == '.'; });
}

/// Decimal port "0".."65535" (no sign, no spaces, at most 5 digits).
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (!is_ascii_digit(c)) return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

/// "host:port" for listeners: IPv4, a DNS name, or "[IPv6]"; port 0 = any free port.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error) {
    std::string_view host;
    std::string_view port;
    bool ipv6 = false;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "must be \"host:port\" (IPv6 as \"[::1]:8080\")";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        ipv6 = true;
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = "must be \"host:port\" (IPv6 as \"[::1]:8080\")";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "an IPv6 address must be in brackets, as \"[::1]:8080\"";
            return std::nullopt;
        }
    }
    if (host.empty()) {
        error = "missing host (use 0.0.0.0 or [::] for every interface)";
        return std::nullopt;
    }
    const boost::core::string_view host_view(host.data(), host.size());
    if (ipv6) {
        if (!boost::urls::parse_ipv6_address(host_view)) {
            error = "invalid IPv6 address";
            return std::nullopt;
        }
    } else if (looks_like_ipv4(host)) {
        if (!boost::urls::parse_ipv4_address(host_view)) {
            error = "invalid IPv4 address";
            return std::nullopt;
        }
    } else if (!is_dns_name(host)) {
        error = "invalid host name";
        return std::nullopt;
    }
    const std::optional<std::uint16_t> port_number = parse_port(port);
    if (!port_number) {
        error = "port must be a number from 0 to 65535";
        return std::nullopt;
    }
    return HostPort{std::string(host), *port_number};
}

// ---- files -----------------------------------------------------------------------------------

struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

/// Reads a whole file of at most `max_bytes`. Works for FIFOs and /dev/fd too (secrets are
/// sometimes mounted that way), which is why it does not ask for the size first.
bool read_file(const std::filesystem::path& path, std::size_t max_bytes, std::string& content,
               std::string& error) {
    content.clear();
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) {
        error = "cannot read " + path.string() + ": " + errno_text(errno);
        return false;
    }
    char buffer[4096];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        content.append(buffer, n);
        if (content.size() > max_bytes) {
            error = path.string() + " is larger than " + std::to_string(max_bytes) + " bytes";
            return false;
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get()) != 0) {
        error = "cannot read " + path.string() + ": " + errno_text(errno);
        return false;
    }
    return true;
}

// ---- the schema ------------------------------------------------------------------------------

class ConfigParser {
public:
    ConfigParser(Config& config, ErrorList& errors) : config_(config), errors_(errors) {}

    void parse(const json::object& document) {
        ObjectReader top(document, "", errors_);
        read_listen(top);
        read_workers(top);
        read_upstream(top);
        read_credentials(top);
        read_clients(top);
        read_policy(top);
        read_audit(top);
        read_limits(top);
        top.reject_unknown_keys();
    }

private:
    void read_listen(ObjectReader& top) {
        if (auto text = top.string("listen", Need::required)) {
            if (auto listen = host_port(top, "listen", *text)) config_.listen = std::move(*listen);
        }
        if (auto text = top.string("admin_listen", Need::optional, true)) {
            config_.admin_listen = host_port(top, "admin_listen", *text);
            // The workers listen with SO_REUSEPORT; the admin listener on the same address would
            // fail to bind at start. The workers' "::" is IPv6 only; the admin's "::" takes IPv4
            // too. Names are taken for IPv4; a clash they hide still fails at bind, naming the key.
            const auto& admin = config_.admin_listen;
            const auto& listen = config_.listen;
            const auto ipv6 = [](const std::string& host) { return host.find(':') != std::string::npos; };
            if (admin && admin->port != 0 && admin->port == listen.port &&
                (admin->host == listen.host || admin->host == "::" ||
                 (listen.host == "0.0.0.0" && !ipv6(admin->host)) ||
                 (admin->host == "0.0.0.0" && !ipv6(listen.host)) || (listen.host == "::" && ipv6(admin->host))))
                top.error("admin_listen", "must not be the address of /listen");
        }
    }

    static std::optional<HostPort> host_port(const ObjectReader& reader, std::string_view key,
                                             std::string_view text) {
        std::string error;
        std::optional<HostPort> result = parse_host_port(text, error);
        if (!result) reader.error(key, std::move(error));
        return result;
    }

    void read_workers(ObjectReader& top) {
        if (auto workers = top.integer("workers", 0, kMaxWorkers)) {
            config_.workers = static_cast<unsigned>(*workers);
        }
    }

    void read_upstream(ObjectReader& top) {
        auto upstream = top.object("upstream", Need::required);
        if (!upstream) return;
        if (auto text = upstream->string("url", Need::required)) {
            std::string error;
            if (auto url = parse_upstream_url(*text, error)) {
                config_.upstream.url = std::move(*url);
            } else {
                upstream->error("url", std::move(error));
            }
        }
        config_.upstream.ca_file = path(*upstream, "ca_file", Need::optional, true);
        if (auto ms = upstream->integer("connect_timeout_ms", 1, kMaxTimeoutMs)) {
            config_.upstream.connect_timeout = std::chrono::milliseconds(*ms);
        }
        if (auto ms = upstream->integer("timeout_ms", 1, kMaxTimeoutMs)) {
            config_.upstream.timeout = std::chrono::milliseconds(*ms);
        }
        if (auto n = upstream->integer("max_idle_connections", 0, kMaxIdleConnections)) {
            config_.upstream.max_idle_connections = static_cast<std::size_t>(*n);
        }
        upstream->reject_unknown_keys();
    }

    void read_credentials(ObjectReader& top) {
        const json::value* section = top.get("credentials", Need::required);
        if (section == nullptr) return;
        const json::object* credentials = section->if_object();
        if (credentials == nullptr) {
            top.error("credentials", "must be an object");
            return;
        }
        // From here on references to credentials can be checked; a broken entry still counts as
        // existing so that one mistake is not reported again at every client that uses it.
        credentials_known_ = true;
        if (credentials->empty()) top.error("credentials", "must have at least one entry");
        for (const auto& member : *credentials) {
            const std::string name(member.key().data(), member.key().size());
            credential_names_.insert(name);
            std::string entry_path = member_path("/credentials", name);
            if (!is_valid_name(name)) errors_.add(entry_path, invalid_name_message());
            auto entry = ObjectReader::open(member.value(), std::move(entry_path), errors_);
            if (!entry) continue;
            CredentialConfig credential;
            const json::value* env = entry->get("token_env");
            const json::value* file = entry->get("token_file");
            if ((env == nullptr) == (file == nullptr)) {
                errors_.add(entry->path(), "must have exactly one of \"token_env\" or \"token_file\"");
            } else if (env != nullptr) {
                credential.source = CredentialConfig::Source::env;
                if (auto variable = entry->string("token_env")) {
                    if (is_env_var_name(*variable)) {
                        credential.env = std::move(*variable);
                    } else {
                        entry->error("token_env",
                                     "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
                    }
                }
            } else {
                credential.source = CredentialConfig::Source::file;
                if (auto token_file = path(*entry, "token_file", Need::required)) {
                    credential.file = std::move(*token_file);
                }
            }
            entry->reject_unknown_keys();
            config_.credentials.emplace(name, std::move(credential));
        }
    }

    /// A reference to a credential; "unknown credential" when the credentials section exists and
    /// has no such entry.
    std::optional<std::string> credential_ref(ObjectReader& reader, std::string_view key, Need need,
                                              bool nullable = false) {
        auto name = reader.string(key, need, nullable);
        if (name && credentials_known_ && !credential_names_.contains(*name)) {
            reader.error(key, "unknown credential " + json_quoted(*name));
        }
        return name;
    }

    void read_clients(ObjectReader& top) {
        const json::value* section = top.get("clients", Need::required);
        if (section == nullptr) return;
        const json::object* clients = section->if_object();
        if (clients == nullptr) {
            top.error("clients", "must be an object");
            return;
        }
        if (clients->empty()) top.error("clients", "must have at least one entry");
        std::map<KeyDigest, std::string> owner_of_key;
        for (const auto& member : *clients) {
            ClientConfig client;
            client.name.assign(member.key().data(), member.key().size());
            std::string entry_path = member_path("/clients", client.name);
            if (!is_valid_name(client.name)) errors_.add(entry_path, invalid_name_message());
            auto entry = ObjectReader::open(member.value(), std::move(entry_path), errors_);
            if (!entry) continue;

            if (auto text = entry->string("key_sha256", Need::required)) {
                if (auto digest = parse_key_digest(*text)) {
                    client.key_sha256 = *digest;
                    auto [owner, inserted] = owner_of_key.emplace(*digest, client.name);
                    if (!inserted) {
                        entry->error("key_sha256", "same key as client " + json_quoted(owner->second));
                    }
                } else {
                    entry->error("key_sha256",
                                 "must be \"sha256:\" followed by 64 hex digits (see hash-key)");
                }
            }
            if (auto credential = credential_ref(*entry, "credential", Need::required)) {
                client.credential = std::move(*credential);
            }
            read_scopes(*entry, client);
            read_organizations(*entry, client);
            entry->reject_unknown_keys();
            config_.clients.push_back(std::move(client));
        }
    }

    static void read_scopes(ObjectReader& entry, ClientConfig& client) {
        const json::array* scopes = entry.array("scopes");
        if (scopes == nullptr) return;
        const std::string scopes_path = entry.path_of("scopes");
        for (std::size_t i = 0; i < scopes->size(); ++i) {
            const json::string* name = (*scopes)[i].if_string();
            if (name == nullptr) {
                entry.errors().add(element_path(scopes_path, i), "must be a string");
                continue;
            }
            const std::string_view scope_name(name->data(), name->size());
            const std::optional<ScopeSet> scope = parse_scope(scope_name);
            if (!scope) {
                entry.errors().add(element_path(scopes_path, i), "unknown scope " + json_quoted(scope_name));
            } else if ((client.scopes & *scope) != 0) {
                entry.errors().add(element_path(scopes_path, i),
                                   "duplicate scope " + json_quoted(scope_name));
            } else {
                client.scopes |= *scope;
                client.scope_names.emplace_back(scope_name);
            }
        }
    }

    static void read_organizations(ObjectReader& entry, ClientConfig& client) {
        const json::array* organizations = entry.array("organizations", Need::required);
        if (organizations == nullptr) return;
        const std::string organizations_path = entry.path_of("organizations");
        if (organizations->empty()) {
            entry.error("organizations", "must list at least one organization id, or [\"*\"] for all");
            return;
        }
        const bool wildcard =
            std::any_of(organizations->begin(), organizations->end(),
                        [](const json::value& id) { return id.is_string() && id.get_string() == "*"; });
        if (wildcard && organizations->size() > 1) {
            entry.error("organizations", "\"*\" must be the only entry");
            return;
        }
        client.all_organizations = wildcard;
        if (wildcard) return;
        for (std::size_t i = 0; i < organizations->size(); ++i) {
            const std::string path = element_path(organizations_path, i);
            const json::string* id = (*organizations)[i].if_string();
            if (id == nullptr || id->empty()) {
                entry.errors().add(path, "must be a non-empty string");
                continue;
            }
            const std::string_view id_text(id->data(), id->size());
            if (!is_path_segment(id_text)) {
                entry.errors().add(path,
                                   "must be usable as a path segment (no spaces, control characters, "
                                   "non-ASCII bytes or / \\ ? #)");
            } else if (std::find(client.organizations.begin(), client.organizations.end(), id_text) !=
                       client.organizations.end()) {
                entry.errors().add(path, "duplicate organization " + json_quoted(id_text));
            } else {
                client.organizations.emplace_back(id_text);
            }
        }
    }

    void read_policy(ObjectReader& top) {
        auto policy = top.object("policy", Need::required);
        if (!policy) return;
        PolicyConfig& result = config_.policy;
        bool source_known = true;
        if (auto source = policy->string("source")) {
            if (*source == "upstream") {
                result.source = PolicyConfig::Source::upstream;
            } else if (*source == "file") {
                result.source = PolicyConfig::Source::file;
            } else {
                policy->error("source", "must be \"upstream\" or \"file\"");
                source_known = false;
            }
        }
        result.file = path(*policy, "file", Need::optional, true);
        if (auto credential = credential_ref(*policy, "credential", Need::optional, true)) {
            result.credential = std::move(*credential);
        }
        if (auto refresh = policy->integer("refresh_s", 0, kMaxRefreshS)) {
            result.refresh = std::chrono::seconds(*refresh);
        }

        // Only for an absent (or null) key: a present but invalid value already has its own error.
        if (source_known && result.source == PolicyConfig::Source::upstream &&
            !policy->has_non_null("credential")) {
            policy->error("credential", "required when source is \"upstream\"");
        }
        if (source_known && result.source == PolicyConfig::Source::file && !policy->has_non_null("file")) {
            policy->error("file", "required when source is \"file\"");
        }
        policy->reject_unknown_keys();
    }

    void read_audit(ObjectReader& top) {
        config_.audit.path = resolve(config_.audit.path);
        auto audit = top.object("audit");
        if (!audit) return;
        if (auto configured = audit->string("path")) {
            if (*configured == "-") {
                config_.audit.to_stdout = true;
                config_.audit.path = "-";
            } else if (auto resolved = checked_path(*audit, "path", *configured)) {
                config_.audit.path = std::move(*resolved);
            }
        }
        AuditConfig& result = config_.audit;
        if (auto mode = audit->choice("fsync", {"always", "batch", "never"}))
            result.fsync = static_cast<AuditConfig::Fsync>(*mode);
        if (auto ms = audit->integer("fsync_ms", 1, kMaxTimeoutMs)) result.fsync_interval = std::chrono::milliseconds(*ms);
        if (auto bytes = audit->integer("rotate_bytes", 0, kMaxRotateBytes)) {
            if (*bytes != 0 && *bytes < kMinRotateBytes)
                audit->error("rotate_bytes", "must be 0 (no size rotation) or at least " + std::to_string(kMinRotateBytes));
            else
                result.rotate_bytes = static_cast<std::uint64_t>(*bytes);
        }
        if (auto keep = audit->integer("keep", 0, kMaxKeepFiles)) result.keep = static_cast<unsigned>(*keep);
        if (auto policy = audit->choice("on_failure", {"deny", "allow"}))
            result.on_failure = static_cast<AuditConfig::OnFailure>(*policy);
        result.signing_key_file = path(*audit, "signing_key_file", Need::optional, true);
        if (auto seconds = audit->integer("checkpoint_s", 1, kMaxRefreshS))
            result.checkpoint_interval = std::chrono::seconds(*seconds);
        if (const json::value* syslog = audit->get("syslog"); syslog != nullptr && !syslog->is_null())
            read_syslog(*syslog, audit->path_of("syslog"));
        audit->reject_unknown_keys();
    }

    void read_syslog(const json::value& value, std::string path_text) {
        auto syslog = ObjectReader::open(value, std::move(path_text), errors_);
        if (!syslog) return;
        SyslogConfig result;
        if (auto text = syslog->string("address", Need::required)) {
            if (auto address = host_port(*syslog, "address", *text)) {
                if (address->port == 0) syslog->error("address", "needs a port");
                result.address = std::move(*address);
            }
        }
        if (auto tls = syslog->boolean("tls")) result.tls = *tls;
        result.ca_file = path(*syslog, "ca_file", Need::optional, true);
        if (auto facility = syslog->integer("facility", 0, 23)) result.facility = static_cast<int>(*facility);
        if (auto queue = syslog->integer("queue", 1, kMaxSyslogQueue)) result.queue = static_cast<std::size_t>(*queue);
        syslog->reject_unknown_keys();
        config_.audit.syslog = std::move(result);
    }

    void read_limits(ObjectReader& top) {
        auto limits = top.object("limits");
        if (!limits) return;
        Limits& result = config_.limits;
        if (auto bytes = limits->integer("max_header_bytes", kMinHeaderBytes, kMaxHeaderBytes)) {
            result.max_header_bytes = static_cast<std::size_t>(*bytes);
        }
        if (auto bytes = limits->integer("max_body_bytes", 1, kMaxBodyBytes)) {
            result.max_body_bytes = static_cast<std::size_t>(*bytes);
        }
        if (auto ms = limits->integer("header_timeout_ms", 1, kMaxTimeoutMs)) {
            result.header_timeout = std::chrono::milliseconds(*ms);
        }
        if (auto ms = limits->integer("idle_timeout_ms", 1, kMaxTimeoutMs)) {
            result.idle_timeout = std::chrono::milliseconds(*ms);
        }
        limits->reject_unknown_keys();
    }

    /// A path member, made absolute against the config file's folder.
    std::optional<std::filesystem::path> path(ObjectReader& reader, std::string_view key, Need need,
                                              bool nullable = false) {
        auto text = reader.string(key, need, nullable);
        if (!text) return std::nullopt;
        return checked_path(reader, key, *text);
    }

    std::optional<std::filesystem::path> checked_path(const ObjectReader& reader, std::string_view key,
                                                      std::string_view text) {
        if (text.empty() || text.find('\0') != std::string_view::npos) {
            reader.error(key, "must be a non-empty path");
            return std::nullopt;
        }
        return resolve(std::filesystem::path(text));
    }

    // Not lexically_normal(): "../x" from a folder reached through a symlink means what the OS
    // says it means, and the join keeps that.
    std::filesystem::path resolve(const std::filesystem::path& configured) const {
        return configured.is_absolute() ? configured : config_.base_dir / configured;
    }

    static std::string invalid_name_message() {
        return "name must be 1 to " + std::to_string(kMaxNameLength) + " characters of A-Z a-z 0-9 . _ -";
    }

    Config& config_;
    ErrorList& errors_;
    bool credentials_known_ = false;
    std::set<std::string, std::less<>> credential_names_;
};

}  // namespace

std::optional<UpstreamUrl> parse_upstream_url(std::string_view url, std::string& error) {
    // The URL itself is never echoed: user info, if someone put a password there, must not
    // reach a log.
    constexpr std::string_view kShape = "must be http:// or https:// followed by host[:port]";
    const auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
    if (!parsed) {
        error = kShape;
        return std::nullopt;
    }
    const boost::urls::url_view& uri = *parsed;
    UpstreamUrl result;
    switch (uri.scheme_id()) {
        case boost::urls::scheme::http: result.tls = false; break;
        case boost::urls::scheme::https: result.tls = true; break;
        default:
            error = kShape;
            return std::nullopt;
    }
    if (!uri.has_authority() || uri.encoded_host().empty()) {
        error = "missing host";
        return std::nullopt;
    }
    if (uri.has_userinfo()) {
        error = "must not contain user info (tokens belong in \"credentials\")";
        return std::nullopt;
    }
    std::string bracketed_host;
    switch (uri.host_type()) {
        case boost::urls::host_type::ipv4:
            result.host = uri.host_address();
            bracketed_host = result.host;
            break;
        case boost::urls::host_type::ipv6:
            result.host = uri.host_address();
            bracketed_host = "[" + result.host + "]";
            break;
        case boost::urls::host_type::name: {
            const std::string_view host(uri.encoded_host().data(), uri.encoded_host().size());
            if (!is_dns_name(host) || looks_like_ipv4(host)) {
                error = "invalid host";
                return std::nullopt;
            }
            result.host = ascii_lower(host);  // DNS names are case-insensitive; SNI wants one form
            bracketed_host = result.host;
            break;
        }
        default:
            error = "invalid host";
            return std::nullopt;
    }
    const std::uint16_t default_port = result.tls ? 443 : 80;
    result.port = default_port;
    if (uri.has_port()) {
        const std::string_view port_text(uri.port().data(), uri.port().size());
        const std::optional<std::uint16_t> port = parse_port(port_text);
        if (!port || *port == 0) {
            error = "port must be a number from 1 to 65535";
            return std::nullopt;
        }
        result.port = *port;
    }
    if (!(uri.encoded_path().empty() || uri.encoded_path() == "/") || uri.has_query() || uri.has_fragment()) {
        error = "must not have a path, query or fragment (only an optional trailing \"/\")";
        return std::nullopt;
    }
    result.authority = bracketed_host;
    if (result.port != default_port) result.authority += ":" + std::to_string(result.port);
    result.origin = std::string(result.tls ? "https://" : "http://") + result.authority;
    return result;
}

ConfigResult parse_config(std::string_view text, const std::filesystem::path& base_dir) {
    ErrorList errors;
    ConfigResult result;
    const std::optional<json::value> document = parse_json(text, errors);
    if (document && !document->is_object()) errors.add("", "the configuration must be a JSON object");
    if (document && document->is_object()) {
        Config config;
        std::error_code ec;
        config.base_dir = base_dir.is_absolute() ? base_dir : std::filesystem::absolute(base_dir, ec);
        if (ec) config.base_dir = base_dir;
        ConfigParser(config, errors).parse(document->get_object());
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
    if (!read_file(absolute, kMaxConfigFileBytes, text, error)) {
        ConfigResult result;
        result.errors.push_back(ConfigError{"", std::move(error)});
        return result;
    }
    ConfigResult result = parse_config(text, absolute.parent_path());
    if (result.config) result.config->file = std::move(absolute);
    return result;
}

CredentialResult load_credentials(const Config& config) {
    CredentialResult result;
    for (const auto& [name, credential] : config.credentials) {
        const std::string entry_path = member_path("/credentials", name);
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
            if (!read_file(credential.file, kMaxTokenFileBytes, token, error)) {
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

std::optional<KeyDigest> parse_key_digest(std::string_view text) noexcept {
    constexpr std::string_view kPrefix = "sha256:";
    if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
    KeyDigest digest{};
    if (!hex_decode(text, digest)) return std::nullopt;
    return digest;
}

}  // namespace giosg
