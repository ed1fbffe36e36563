#pragma once
// Loading the policy catalogue: live from the upstream (`GET /api/v5/endpoints`, following
// `next` until null) or from the snapshot file, with the fallback rule of docs/reference.md §2.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/path_error.hpp"
#include "common/secret.hpp"
#include "config/config.hpp"
#include "policy/catalogue.hpp"
#include "policy/drift.hpp"

namespace giosg {

struct CatalogueFetch {
    std::vector<CatalogueEntry> entries;
    std::size_t pages = 0;
    std::string error;  // empty on success; never contains the token
    bool tls_verify_failed = false;  // the upstream's TLS certificate did not verify
    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Fetches every page with `Authorization: Token <token>`. A `next` link to another scheme, host
/// or port than the upstream is refused (the token is never sent elsewhere); so are loops, more
/// than 1000 pages, a page over 32 MiB, a non-200 answer and an unparsable page. Each page
/// (head and body) must arrive within upstream.timeout_ms, and all of them within 4 times that
/// (no page is started after that; each connect has upstream.connect_timeout_ms besides).
boost::asio::awaitable<CatalogueFetch> fetch_catalogue(boost::asio::any_io_executor executor,
                                                       const UpstreamConfig& upstream,
                                                       boost::asio::ssl::context* tls, const Secret& token);

/// The same on a private io_context (CLI commands and start-up).
CatalogueFetch fetch_catalogue_blocking(const UpstreamConfig& upstream, const Secret& token);

struct CatalogueFile {
    std::vector<CatalogueEntry> entries;
    std::vector<PathError> errors;  // the file name is in each message
};
CatalogueFile read_catalogue_file(const std::filesystem::path& file);

struct PolicyLoad {
    std::shared_ptr<const PolicyTable> table;   // null when nothing usable was found
    std::vector<CatalogueEntry> entries;        // the table in force
    std::string origin;                         // "upstream https://…" or "file /path"
    std::vector<std::string> warnings;          // e.g. live fetch failed, snapshot used
    bool tls_verify_failed = false;             // the live fetch failed on the upstream's certificate
    std::vector<PathError> errors;              // why there is no table
    /// With policy.on_widening "hold": how the live catalogue differs from the snapshot file,
    /// which is the table in force at start-up (docs/reference.md "Catalogue drift").
    std::vector<PolicyChange> changes;
    [[nodiscard]] std::vector<PolicyChange> held() const;
};

/// policy.source "upstream": the live catalogue, else policy.file with a warning;
/// "file": policy.file only. `credentials` may lack the policy credential (then the live fetch
/// counts as failed). With on_widening "hold" and a readable policy.file, the live catalogue
/// applies to the snapshot as far as the drift rule lets it, so a restart never adopts a held change.
PolicyLoad load_policy(const Config& config, const CredentialSet& credentials);

}  // namespace giosg
