#pragma once
// The names of a TLS client certificate that OpenSSL verified (docs/reference.md §7, mTLS).
#include <optional>

#include "identity/peer.hpp"

using SSL = struct ssl_st;
using X509 = struct x509_st;

namespace giosg::net {

/// The verified peer certificate's SAN URIs, SAN DNS names and subject CN; nullopt when the
/// client sent none or it did not verify. Names with NUL bytes and entries past a bound are
/// left out, so no certificate can make this allocate without limit.
std::optional<PeerCertificate> verified_peer_certificate(SSL* ssl);

/// The names of `certificate` as verified_peer_certificate() reads them (no verification here).
PeerCertificate certificate_names(X509* certificate);

}  // namespace giosg::net
