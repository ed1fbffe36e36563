#pragma once
// The head of the response the client gets for an upstream answer (the relay stage; see
// docs/reference.md §3): the upstream's status and fields minus what is hop-by-hop, plus the
// request id and the gateway's own framing. Built in two steps because the upstream's fields
// are views into its connection's buffer, which the body read reuses. Pure: no Asio.
#include <cstdint>
#include <string>
#include <string_view>

#include "http/head.hpp"
#include "relay/link_rewrite.hpp"

namespace giosg::relay {

/// How the client's copy of a body is delimited.
enum class Framing : std::uint8_t {
    none,            // no body: the status or the request method frames it
    content_length,  // a Content-Length the gateway writes
    chunked,         // re-chunked for an HTTP/1.1 client
    until_close,     // HTTP/1.0 client and unknown length: the connection's end frames it
};

/// Framing for `response`: `complete` when the whole body (`buffered` bytes) is already in hand.
Framing choose_framing(const http::ResponseHead& response, bool complete, int client_version_minor) noexcept;

/// Status line, the upstream's end-to-end fields (not hop-by-hop ones, not those its Connection
/// lists, not its X-Request-Id, not a Content-Length the gateway replaces) and X-Request-Id.
/// Without a body (HEAD, 304) the upstream's Content-Length describes the entity and passes,
/// except on a 204, where RFC 9110 §8.6 forbids it. Location and Content-Location on the
/// upstream's origin are rewritten onto the public one (docs/reference.md §6). With
/// `held_validators`, ETag and Content-MD5 go there instead of `out`: they describe a body that
/// may yet be rewritten, and pass (append_held_validators) only if it is not.
void append_client_fields(std::string& out, const http::ResponseHead& response, std::string_view request_id,
                          LinkContext& links, std::string* held_validators = nullptr);

/// The framing field, Connection and the blank line. `length` is the body's size for
/// Framing::content_length.
void append_client_framing(std::string& out, Framing framing, std::uint64_t length, bool close,
                           int client_version_minor);

}  // namespace giosg::relay
