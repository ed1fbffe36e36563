#include "config/json_reader.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>

namespace giosg::config_detail {
namespace {

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

std::string integer_expectation(std::int64_t min, std::int64_t max, bool too_large) {
    if (min == 0 || min == 1) {
        if (too_large) return "must be at most " + std::to_string(max);
        return min == 0 ? "must be a non-negative integer" : "must be a positive integer";
    }
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

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

std::string json_quoted(std::string_view text) {
    return json::serialize(json::string_view(text.data(), text.size()));
}

void ErrorList::append(ErrorList&& other) {
    std::move(other.errors_.begin(), other.errors_.end(), std::back_inserter(errors_));
    other.errors_.clear();
}

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

// ---- ObjectReader ----------------------------------------------------------------------------

std::optional<ObjectReader> ObjectReader::open(const json::value& value, std::string path, ErrorList& errors) {
    if (const json::object* object = value.if_object()) {
        return ObjectReader(*object, std::move(path), errors);
    }
    errors.add(std::move(path), "must be an object");
    return std::nullopt;
}

const json::value* ObjectReader::get(std::string_view key, Need need) {
    known_.push_back(key);
    const json::value* value = object_->if_contains(json::string_view(key.data(), key.size()));
    if (value == nullptr && need == Need::required) error(key, "missing required key");
    return value;
}

bool ObjectReader::has_non_null(std::string_view key) const {
    const json::value* value = object_->if_contains(json::string_view(key.data(), key.size()));
    return value != nullptr && !value->is_null();
}

std::optional<ObjectReader> ObjectReader::object(std::string_view key, Need need) {
    const json::value* value = get(key, need);
    if (value == nullptr) return std::nullopt;
    return open(*value, path_of(key), *errors_);
}

std::optional<std::string> ObjectReader::string(std::string_view key, Need need, bool nullable) {
    const json::value* value = get(key, need);
    if (value == nullptr || (nullable && value->is_null())) return std::nullopt;
    if (const json::string* text = value->if_string()) return std::string(text->data(), text->size());
    error(key, nullable ? "must be a string or null" : "must be a string");
    return std::nullopt;
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                  Need need) {
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

std::optional<bool> ObjectReader::boolean(std::string_view key) {
    const json::value* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (const bool* flag = value->if_bool()) return *flag;
    error(key, "must be true or false");
    return std::nullopt;
}

std::optional<std::size_t> ObjectReader::choice(std::string_view key,
                                                std::initializer_list<std::string_view> choices) {
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

const json::array* ObjectReader::array(std::string_view key, Need need) {
    const json::value* value = get(key, need);
    if (value == nullptr) return nullptr;
    if (const json::array* elements = value->if_array()) return elements;
    error(key, "must be an array");
    return nullptr;
}

void ObjectReader::reject_unknown_keys() const {
    for (const auto& member : *object_) {
        const std::string_view key(member.key().data(), member.key().size());
        if (std::find(known_.begin(), known_.end(), key) == known_.end()) error(key, "unknown key");
    }
}

// ---- paths -----------------------------------------------------------------------------------

// Not lexically_normal(): "../x" from a folder reached through a symlink means what the OS
// says it means, and the join keeps that.
std::filesystem::path resolve_path(const std::filesystem::path& configured, const std::filesystem::path& base_dir) {
    return configured.is_absolute() ? configured : base_dir / configured;
}

std::optional<std::filesystem::path> checked_path(const ObjectReader& reader, std::string_view key,
                                                  std::string_view text, const std::filesystem::path& base_dir) {
    if (text.empty() || text.find('\0') != std::string_view::npos) {
        reader.error(key, "must be a non-empty path");
        return std::nullopt;
    }
    return resolve_path(std::filesystem::path(text), base_dir);
}

std::optional<std::filesystem::path> read_path(ObjectReader& reader, std::string_view key,
                                               const std::filesystem::path& base_dir, Need need, bool nullable) {
    auto text = reader.string(key, need, nullable);
    if (!text) return std::nullopt;
    return checked_path(reader, key, *text, base_dir);
}

}  // namespace giosg::config_detail
