#include "policy/catalogue.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include <boost/json.hpp>

#include "policy/url_pattern.hpp"

namespace giosg {

namespace json = boost::json;

namespace {

bool is_method_token(std::string_view name) {
    if (name.empty() || name.front() < 'A' || name.front() > 'Z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::string quoted(std::string_view text) {
    return json::serialize(json::string_view(text.data(), text.size()));
}

// ---------------------------------------------------------------------------------------------
// Parsing

class PageParser {
public:
    CatalogueParseResult run(std::string_view json_text) {
        json::value document;
        if (!parse_document(json_text, document)) return std::move(result_);
        const json::object* top = document.if_object();
        if (top == nullptr) {
            fail("", "expected a JSON object");
            return std::move(result_);
        }
        CataloguePage page;
        if (const json::value* next = top->if_contains("next"); next != nullptr && !next->is_null()) {
            if (const json::string* text = next->if_string()) {
                page.next = std::string(*text);
            } else {
                fail("/next", "expected a string or null");
            }
        }
        const json::value* results = top->if_contains("results");
        if (results == nullptr) {
            fail("/results", "is required");
        } else if (const json::array* array = results->if_array()) {
            page.entries.reserve(array->size());
            for (std::size_t i = 0; i < array->size(); ++i) {
                if (auto entry = parse_entry((*array)[i], "/results/" + std::to_string(i))) {
                    page.entries.push_back(std::move(*entry));
                }
            }
        } else {
            fail("/results", "expected an array");
        }
        if (result_.errors.empty()) result_.page = std::move(page);
        return std::move(result_);
    }

private:
    bool parse_document(std::string_view text, json::value& document) {
        json::stream_parser parser;
        boost::system::error_code ec;
        const std::size_t consumed = parser.write(text.data(), text.size(), ec);
        if (!ec) parser.finish(ec);
        if (ec) {
            fail("", "invalid JSON at byte " + std::to_string(consumed) + ": " + ec.message());
            return false;
        }
        document = parser.release();
        return true;
    }

    std::optional<CatalogueEntry> parse_entry(const json::value& value, const std::string& path) {
        const json::object* object = value.if_object();
        if (object == nullptr) {
            fail(path, "expected an object");
            return std::nullopt;
        }
        const std::size_t errors_before = result_.errors.size();
        CatalogueEntry entry;

        if (const json::string* pattern = required_string(*object, "url_pattern", path)) {
            entry.url_pattern = std::string(*pattern);
            std::vector<PatternSegment> segments;
            if (std::string problem = split_pattern(entry.url_pattern, segments); !problem.empty()) {
                fail(path + "/url_pattern", std::move(problem));
            }
        }

        const json::value* methods = object->if_contains("methods");
        if (methods == nullptr) {
            fail(path + "/methods", "is required");
        } else if (const json::array* array = methods->if_array()) {
            for (std::size_t i = 0; i < array->size(); ++i) {
                const std::string method_path = path + "/methods/" + std::to_string(i);
                auto rule = parse_method((*array)[i], method_path);
                if (!rule) continue;
                const bool duplicate =
                    std::any_of(entry.methods.begin(), entry.methods.end(),
                                [&](const MethodRule& seen) { return seen.name == rule->name; });
                if (duplicate) {
                    fail(method_path + "/name", "duplicate method " + quoted(rule->name));
                    continue;
                }
                entry.methods.push_back(std::move(*rule));
            }
        } else {
            fail(path + "/methods", "expected an array");
        }

        if (const json::value* comment = object->if_contains("comment");
            comment != nullptr && !comment->is_null()) {
            if (const json::string* text = comment->if_string()) {
                entry.comment = std::string(*text);
            } else {
                fail(path + "/comment", "expected a string or null");
            }
        }

        if (result_.errors.size() != errors_before) return std::nullopt;
        return entry;
    }

    std::optional<MethodRule> parse_method(const json::value& value, const std::string& path) {
        const json::object* object = value.if_object();
        if (object == nullptr) {
            fail(path, "expected an object");
            return std::nullopt;
        }
        const std::size_t errors_before = result_.errors.size();
        MethodRule rule;
        if (const json::string* name = required_string(*object, "name", path)) {
            rule.name = std::string(*name);
            if (!is_method_token(rule.name)) {
                fail(path + "/name",
                     "invalid method name " + quoted(rule.name) + " (expected an upper-case token)");
            }
        }
        // A missing scope list is an error rather than "any client": guessing open is unsafe.
        const json::value* scopes = object->if_contains("scopes");
        if (scopes == nullptr) {
            fail(path + "/scopes", "is required");
        } else if (const json::array* array = scopes->if_array()) {
            for (std::size_t i = 0; i < array->size(); ++i) {
                const json::string* scope = (*array)[i].if_string();
                if (scope == nullptr) {
                    fail(path + "/scopes/" + std::to_string(i), "expected a string");
                    continue;
                }
                const std::string_view scope_name(scope->data(), scope->size());
                rule.scopes |= parse_scope(scope_name).value_or(kUnknownScope);
                rule.scope_names.emplace_back(scope_name);
            }
        } else {
            fail(path + "/scopes", "expected an array");
        }
        if (result_.errors.size() != errors_before) return std::nullopt;
        return rule;
    }

    const json::string* required_string(const json::object& object, std::string_view key,
                                        const std::string& path) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr) {
            fail(path + "/" + std::string(key), "is required");
            return nullptr;
        }
        const json::string* text = value->if_string();
        if (text == nullptr) fail(path + "/" + std::string(key), "expected a string");
        return text;
    }

    void fail(std::string path, std::string message) {
        result_.errors.push_back(PathError{std::move(path), std::move(message)});
    }

    CatalogueParseResult result_;
};

// ---------------------------------------------------------------------------------------------
// Serialisation: the layout of Python's json.dumps(indent=2), which is how the bundled snapshot
// was first written, so a refreshed snapshot diffs line by line against the old one.

void write_pretty(const json::value& value, std::string& out, std::size_t depth) {
    const auto newline = [&out](std::size_t level) {
        out += '\n';
        out.append(level * 2, ' ');
    };
    if (const json::object* object = value.if_object()) {
        if (object->empty()) {
            out += "{}";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& member : *object) {
            if (!first) out += ',';
            first = false;
            newline(depth + 1);
            out += json::serialize(member.key());
            out += ": ";
            write_pretty(member.value(), out, depth + 1);
        }
        newline(depth);
        out += '}';
    } else if (const json::array* array = value.if_array()) {
        if (array->empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const json::value& element : *array) {
            if (!first) out += ',';
            first = false;
            newline(depth + 1);
            write_pretty(element, out, depth + 1);
        }
        newline(depth);
        out += ']';
    } else {
        out += json::serialize(value);
    }
}

}  // namespace

CatalogueParseResult parse_catalogue_page(std::string_view json_text) {
    return PageParser{}.run(json_text);
}

std::string serialize_catalogue(const std::vector<CatalogueEntry>& entries) {
    json::array results;
    results.reserve(entries.size());
    for (const CatalogueEntry& entry : entries) {
        json::array methods;
        for (const MethodRule& method : entry.methods) {
            json::array scopes;
            for (const std::string& scope : method.scope_names) scopes.emplace_back(scope);
            methods.emplace_back(json::object{{"name", method.name}, {"scopes", std::move(scopes)}});
        }
        results.emplace_back(json::object{
            {"url_pattern", entry.url_pattern}, {"methods", std::move(methods)}, {"comment", entry.comment}});
    }
    const json::value page =
        json::object{{"next", nullptr}, {"previous", nullptr}, {"results", std::move(results)}};
    std::string out;
    write_pretty(page, out, 0);
    out += '\n';
    return out;
}

}  // namespace giosg
