#pragma once
// A problem found in a JSON document (config or catalogue), named by its JSON pointer.
#include <string>

namespace giosg {

struct PathError {
    std::string path;     // JSON pointer ("/clients/billing/scopes/0"); "" for the whole document
    std::string message;  // never contains a secret
    /// "/clients/billing/scopes/0: unknown scope \"report\"" ("message" alone when path is empty)
    [[nodiscard]] std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

}  // namespace giosg
