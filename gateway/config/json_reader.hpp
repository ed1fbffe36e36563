#pragma once
// Reading the config's JSON: the text with comments and trailing commas, errors collected under
// their JSON pointer (RFC 6901), typed getters that reject unknown keys, and paths made absolute
// against the config file's folder. Internal to the config library.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace giosg::config_detail {

namespace json = boost::json;

// ---- JSON pointers ---------------------------------------------------------------------------

std::string member_path(std::string_view parent, std::string_view key);
std::string element_path(std::string_view parent, std::size_t index);

/// A user-supplied string as it appears in a message: JSON-quoted, so that control characters or
/// quotes in it cannot make the message ambiguous. Only for values that are never secrets.
std::string json_quoted(std::string_view text);

class ErrorList {
public:
    void add(std::string path, std::string message) {
        errors_.push_back(ConfigError{std::move(path), std::move(message)});
    }
    void append(ErrorList&& other);
    [[nodiscard]] bool empty() const noexcept { return errors_.empty(); }
    [[nodiscard]] std::vector<ConfigError> take() noexcept { return std::move(errors_); }

private:
    std::vector<ConfigError> errors_;
};

/// Parses JSON with comments and trailing commas. Syntax errors end the parse with one error
/// (path ""); duplicate keys are reported alongside whatever the validation finds later.
std::optional<json::value> parse_json(std::string_view text, ErrorList& errors);

// ---- typed access to a JSON object -----------------------------------------------------------

enum class Need : std::uint8_t { optional, required };

/// One JSON object being validated. It knows its own JSON pointer, fetches typed members, and
/// remembers which keys the schema asked for, so that reject_unknown_keys() can name every key
/// nobody asked for ("/upstream/tiemout_ms: unknown key").
class ObjectReader {
public:
    ObjectReader(const json::object& object, std::string path, ErrorList& errors)
        : object_(&object), path_(std::move(path)), errors_(&errors) {}

    /// The value at `path` as an object reader; an error (and nullopt) when it is not an object.
    static std::optional<ObjectReader> open(const json::value& value, std::string path, ErrorList& errors);

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string path_of(std::string_view key) const { return member_path(path_, key); }
    [[nodiscard]] ErrorList& errors() const noexcept { return *errors_; }
    void error(std::string_view key, std::string message) const { errors_->add(path_of(key), std::move(message)); }

    /// The member, or null when absent (an error when it is required).
    const json::value* get(std::string_view key, Need need = Need::optional);

    /// Whether the member is there and not null (does not count as asking for it).
    [[nodiscard]] bool has_non_null(std::string_view key) const;

    std::optional<ObjectReader> object(std::string_view key, Need need = Need::optional);

    /// A string member; a JSON null counts as absent when `nullable`.
    std::optional<std::string> string(std::string_view key, Need need = Need::optional, bool nullable = false);

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                        Need need = Need::optional);

    std::optional<bool> boolean(std::string_view key);

    /// A string member that must be one of `choices`; returns its index.
    std::optional<std::size_t> choice(std::string_view key, std::initializer_list<std::string_view> choices);

    const json::array* array(std::string_view key, Need need = Need::optional);

    /// Reports every key that no get() asked for.
    void reject_unknown_keys() const;

private:
    const json::object* object_;
    std::string path_;
    ErrorList* errors_;
    std::vector<std::string_view> known_;  // the schema's keys: string literals
};

// ---- paths -----------------------------------------------------------------------------------

/// `configured` made absolute against `base_dir` (the config file's folder).
std::filesystem::path resolve_path(const std::filesystem::path& configured, const std::filesystem::path& base_dir);

/// `text`, already read from `key`, checked to be a usable path and resolved.
std::optional<std::filesystem::path> checked_path(const ObjectReader& reader, std::string_view key,
                                                  std::string_view text, const std::filesystem::path& base_dir);

/// A path member, made absolute against the config file's folder.
std::optional<std::filesystem::path> read_path(ObjectReader& reader, std::string_view key,
                                               const std::filesystem::path& base_dir, Need need,
                                               bool nullable = false);

}  // namespace giosg::config_detail
