#include "net/peer_certificate.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <string_view>

namespace giosg::net {
namespace {

constexpr std::size_t kMaxNames = 64;        // per kind; a workload certificate has a handful
constexpr std::size_t kMaxNameBytes = 1024;  // as for a client's configured "mtls" value

void add_name(std::vector<std::string>& names, const ASN1_STRING* text) {
    if (text == nullptr || names.size() >= kMaxNames) return;
    const int length = ASN1_STRING_length(text);
    if (length <= 0 || static_cast<std::size_t>(length) > kMaxNameBytes) return;
    const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(text));
    const std::string_view name(data, static_cast<std::size_t>(length));
    if (name.find('\0') != std::string_view::npos) return;  // "a.example\0.evil": never a match
    names.emplace_back(name);
}

std::optional<std::string> single_common_name(X509* certificate) {
    const X509_NAME* subject = X509_get_subject_name(certificate);
    if (subject == nullptr) return std::nullopt;
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0) return std::nullopt;  // none, or two
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) return std::nullopt;
    std::optional<std::string> name;
    const std::string_view text(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    if (length > 0 && static_cast<std::size_t>(length) <= kMaxNameBytes && text.find('\0') == std::string_view::npos)
        name.emplace(text);
    OPENSSL_free(utf8);
    return name;
}

}  // namespace

std::optional<PeerCertificate> verified_peer_certificate(SSL* ssl) {
    if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
    X509* certificate = SSL_get0_peer_certificate(ssl);
    if (certificate == nullptr) return std::nullopt;
    // With SSL_VERIFY_PEER a certificate that fails verification ends the handshake; without a
    // client CA nothing is asked for. Either way a certificate seen here has been verified.
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) return std::nullopt;
    return certificate_names(certificate);
}

PeerCertificate certificate_names(X509* certificate) {
    PeerCertificate result;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    if (names != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
            if (name->type == GEN_URI) add_name(result.san_uris, name->d.uniformResourceIdentifier);
            else if (name->type == GEN_DNS) add_name(result.san_dns, name->d.dNSName);
        }
        GENERAL_NAMES_free(names);
    }
    result.subject_cn = single_common_name(certificate);
    return result;
}

}  // namespace giosg::net
