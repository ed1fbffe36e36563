#pragma once
// What the connection itself proves about the caller, before any request field is read: the
// names of a verified TLS client certificate, or the uid of a unix socket peer (docs/reference.md
// §7). Filled by the server once per connection; read by identify().
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace giosg {

/// The names of a client certificate that OpenSSL verified against `tls.client_ca_file`.
struct PeerCertificate {
    std::vector<std::string> san_uris;   // subjectAltName URI entries
    std::vector<std::string> san_dns;    // subjectAltName DNS entries
    std::optional<std::string> subject_cn;  // set only when the subject has exactly one CN
};

struct Peer {
    std::optional<PeerCertificate> certificate;  // a verified client certificate
    std::optional<std::uint32_t> uid;            // a unix socket peer's uid (SO_PEERCRED)
};

}  // namespace giosg
