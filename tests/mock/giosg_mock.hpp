// giosg-mock: a fake giosg HTTP API for the gateway's integration tests and for
// `deploy/dev.sh run`. It serves the catalogue (`GET /api/v5/endpoints`, paginated), answers
// every other catalogued path with plausible DRF-style JSON, records every request it receives,
// and can misbehave on demand (the `X-Mock-Fault` request header, or a default fault).
//
// It is deliberately independent of the gateway's own code: a fake that shared the gateway's
// matcher or HTTP parsing would agree with the gateway's bugs instead of exposing them.
//
// Fault syntax (header `X-Mock-Fault`, or set_default_fault; items may be joined with commas,
// e.g. "delay=200,status=503"; at most one item other than delay; an unknown item gets 400):
//   none                   no fault (a request's header overrides the default fault)
//   close                  read the request, then close the connection without answering
//   delay=MS               wait MS milliseconds, then answer normally (or apply the other item)
//   status=CODE            answer CODE (200..599) with {"detail": "mock fault"}; with a request
//                          header `X-Mock-Retry-After: V` the answer carries `Retry-After: V`
//                          (giosg's 429 throttling answer)
//   malformed              write "NOT HTTP\r\n\r\n" and close
//   clte                   a response with both Content-Length and Transfer-Encoding: chunked
//   gzip-chunked           a 200 with Transfer-Encoding: gzip, chunked (a coding a proxy that
//                          removes the chunking must not silently drop)
//   close-mid-body         headers with Content-Length: 1000, then 10 body bytes, then close
//   204-with-length        204 No Content with a (forbidden) Content-Length: 5, no body
//   late-answer=MS         200 {"first":1}, then MS ms later an unasked second 200
//                          {"injected":true} on the same kept-alive connection
//   big-headers            a 200 response whose header block is about 64 KiB
//   body-bytes=N           200 with an N-byte body (Content-Length), written in 64 KiB pieces
//   chunked-body-bytes=N   the same body with Transfer-Encoding: chunked
//
// Paged list (docs/reference.md §6 link rewriting): GET /api/v5/orgs/<organization_id>/teams[?page=N]
// answers page N (default 1) of `list_pages` pages, each of `list_page_size` team objects, in
// giosg's list shape {"next": ..., "previous": ..., "results": [...]}. `next`/`previous` are
// ABSOLUTE URLs on the mock's own origin (origin(), e.g. http://127.0.0.1:PORT/api/v5/orgs/
// <org>/teams?page=N+1), whatever Host the request carried; `previous` of page 2 has no
// `page` (as DRF writes it), null at the ends; a page out of range gets 404. With
// `Accept-Encoding: gzip` (or x-gzip, not q=0) the body is gzip with `Content-Encoding: gzip`;
// either way `Vary: Accept-Encoding` and an ETag ("teams-page-N" or "teams-page-N-gzip").
// POST to the same path answers 201 with the created team and `Location: <origin>/api/v5/
// orgs/<org>/teams/<id>`. The policy catalogue has this path (GET any scope, POST "users").
// Generated bodies are application/octet-stream; byte i is 'a' + i % 26, so a receiver can
// check every byte arrived in order. Faults apply after the Authorization check, so a request
// with a bad token still gets its 401.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace giosg::mock {

namespace detail {
struct MockState;
}

/// One request as the mock received it: target and headers byte for byte, in order.
struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header called `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

struct MockOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  std::filesystem::path catalogue_file;  // required; {"next","previous","results":[...]}
  std::size_t page_size = 25;  // entries per /api/v5/endpoints page
  std::size_t list_pages = 3;      // pages of GET /api/v5/orgs/<organization_id>/teams (at least 1)
  std::size_t list_page_size = 2;  // teams per page of it (0 = empty pages)
  // Every request must carry exactly `Authorization: Token <expected_token>`.
  // Empty disables the check (any or no Authorization is accepted).
  std::string expected_token;
  // When set, catalogue `next`/`previous` links use this origin instead of the request's own
  // (scheme + Host header), to test that the gateway refuses cross-origin pages.
  std::optional<std::string> next_origin_override;
  // Both set: serve HTTPS with this PEM certificate chain and private key.
  std::optional<std::filesystem::path> tls_cert_file, tls_key_file;
};

/// The fake server. It owns one io_context run on one background thread.
class GiosgMock {
 public:
  explicit GiosgMock(MockOptions options);
  ~GiosgMock();  // stops
  GiosgMock(const GiosgMock&) = delete;
  GiosgMock& operator=(const GiosgMock&) = delete;

  /// Loads the catalogue, binds, listens and starts the thread; throws on any failure.
  void start();
  /// Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

  std::uint16_t port() const;
  /// "http://127.0.0.1:PORT" ("https://…" with TLS); a wildcard host is given as loopback.
  std::string origin() const;

  /// Every request received so far (a copy; safe from any thread).
  std::vector<ReceivedRequest> received() const;
  std::size_t request_count() const;
  /// Connections accepted so far, to assert that the gateway reuses upstream connections.
  std::size_t connections_accepted() const;
  /// Forgets the received requests (the connection count stays).
  void clear();

  /// Same syntax as X-Mock-Fault; "" = none. Throws std::invalid_argument on bad syntax.
  /// A request's own X-Mock-Fault header takes precedence over the default.
  void set_default_fault(std::string fault);
  /// When true, GET /api/v5/endpoints answers 500.
  void set_endpoints_failure(bool fail);
  /// Serves and matches another catalogue from now on (a giosg catalogue change, for the
  /// gateway's drift tests). Throws like start() when the file is unusable. Call after start().
  void set_catalogue_file(const std::filesystem::path& file);

 private:
  std::unique_ptr<detail::MockState> state_;
};

}  // namespace giosg::mock
