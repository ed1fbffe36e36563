#pragma once
// Test-only certificates made at test time with OpenSSL's X509 and EVP APIs (P-256 keys): a CA,
// server certificates, and client certificates with chosen SAN URIs, SAN DNS names, subject CN
// and validity, written as PEM files into a test's folder.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace giosg::testing {

struct CertSpec {
    std::string common_name;            // empty: no CN in the subject
    std::vector<std::string> san;       // "URI:spiffe://…", "DNS:…", "IP:127.0.0.1"
    long not_before_s = -3600;          // relative to now
    long not_after_s = 2 * 86400;
    bool ca = false;
    bool server = false;                // extendedKeyUsage serverAuth (else clientAuth)
};

class TestCa;

/// A key and its certificate, as PEM files `<name>.pem` and `<name>.key` in a folder.
class TestCert {
public:
    TestCert() = default;
    [[nodiscard]] const std::filesystem::path& cert_file() const { return cert_file_; }
    [[nodiscard]] const std::filesystem::path& key_file() const { return key_file_; }

private:
    friend class TestCa;
    std::filesystem::path cert_file_;
    std::filesystem::path key_file_;
};

class TestCa {
public:
    /// A self-signed CA named `name`, written as `<name>.pem` / `<name>.key` into `dir`.
    TestCa(std::filesystem::path dir, const std::string& name) : dir_(std::move(dir)) {
        key_.reset(new_key());
        CertSpec spec;
        spec.common_name = name + " test CA";
        spec.ca = true;
        cert_.reset(make(spec, key_.get(), nullptr, nullptr));
        ca_file_ = dir_ / (name + ".pem");
        write_cert(ca_file_, cert_.get());
        write_key(dir_ / (name + ".key"), key_.get());
    }

    [[nodiscard]] const std::filesystem::path& ca_file() const { return ca_file_; }

    /// A certificate this CA signs.
    [[nodiscard]] TestCert issue(const std::string& name, const CertSpec& spec) const {
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(new_key(), EVP_PKEY_free);
        std::unique_ptr<X509, decltype(&X509_free)> cert(make(spec, key.get(), cert_.get(), key_.get()), X509_free);
        TestCert out;
        out.cert_file_ = dir_ / (name + ".pem");
        out.key_file_ = dir_ / (name + ".key");
        write_cert(out.cert_file_, cert.get());
        write_key(out.key_file_, key.get());
        return out;
    }

private:
    static EVP_PKEY* new_key() {
        EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        if (key == nullptr) throw std::runtime_error("test key generation failed");
        return key;
    }

    static void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) throw std::runtime_error("test extension failed");
        X509_EXTENSION_free(ext);
    }

    // Signs with `issuer_key` (the subject's own key when self-signed).
    static X509* make(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
        static long serial = 1;
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
        X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_s);
        X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_s);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("giosg-gateway tests"),
                                   -1, -1, 0);
        if (!spec.common_name.empty())
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
        X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
        if (spec.ca) {
            add_extension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
            add_extension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            add_extension(cert, issuer, NID_basic_constraints, "CA:FALSE");
            add_extension(cert, issuer, NID_ext_key_usage, spec.server ? "serverAuth" : "clientAuth");
        }
        add_extension(cert, issuer, NID_subject_key_identifier, "hash");
        if (issuer != nullptr) add_extension(cert, issuer, NID_authority_key_identifier, "keyid");
        std::string san;
        for (const auto& entry : spec.san) san += (san.empty() ? "" : ",") + entry;
        if (!san.empty()) add_extension(cert, issuer, NID_subject_alt_name, san);
        if (X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) throw std::runtime_error("test certificate signing failed");
        return cert;
    }

    static void write_cert(const std::filesystem::path& file, X509* cert) {
        FILE* f = std::fopen(file.c_str(), "wb");
        if (f == nullptr || PEM_write_X509(f, cert) != 1) throw std::runtime_error("cannot write " + file.string());
        std::fclose(f);
    }
    static void write_key(const std::filesystem::path& file, EVP_PKEY* key) {
        FILE* f = std::fopen(file.c_str(), "wb");
        if (f == nullptr || PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
            throw std::runtime_error("cannot write " + file.string());
        std::fclose(f);
    }

    std::filesystem::path dir_;
    std::filesystem::path ca_file_;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_{nullptr, EVP_PKEY_free};
    std::unique_ptr<X509, decltype(&X509_free)> cert_{nullptr, X509_free};
};

}  // namespace giosg::testing
