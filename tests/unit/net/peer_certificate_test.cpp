// The names read from a client certificate for mTLS (docs/reference.md §7): SAN URIs and DNS
// names, the subject CN only when there is exactly one, and nothing a crafted name could use
// to match another client.
#include "net/peer_certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>

#include "test_pki.hpp"

namespace giosg::net {
namespace {

using testing::CertSpec;
using testing::TestCa;

class CertificateNames : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("giosg-certnames-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(dir_);
        ca_ = std::make_unique<TestCa>(dir_, "ca");
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    // A certificate of `spec`, read back from its PEM file.
    std::unique_ptr<X509, decltype(&X509_free)> issue(const CertSpec& spec) {
        const auto cert = ca_->issue("leaf", spec);
        FILE* f = std::fopen(cert.cert_file().c_str(), "rb");
        X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        return {x, X509_free};
    }

    std::filesystem::path dir_;
    std::unique_ptr<TestCa> ca_;
};

TEST_F(CertificateNames, SanUrisDnsNamesAndTheCommonNameAreRead) {
    CertSpec spec;
    spec.common_name = "billing";
    spec.san = {"URI:spiffe://corp.example/billing", "DNS:billing.corp.example", "DNS:b.corp.example",
                "IP:10.0.0.1", "email:ops@corp.example"};
    const auto cert = issue(spec);
    const PeerCertificate names = certificate_names(cert.get());
    EXPECT_EQ(names.san_uris, std::vector<std::string>{"spiffe://corp.example/billing"});
    EXPECT_EQ(names.san_dns, (std::vector<std::string>{"billing.corp.example", "b.corp.example"}));
    EXPECT_EQ(names.subject_cn, "billing");
}

TEST_F(CertificateNames, ASubjectWithTwoCommonNamesHasNone) {
    CertSpec spec;
    spec.common_name = "billing";
    auto cert = issue(spec);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("support"), -1, -1, 0);
    EXPECT_FALSE(certificate_names(cert.get()).subject_cn);
    CertSpec no_cn;
    no_cn.san = {"DNS:a.example"};
    EXPECT_FALSE(certificate_names(issue(no_cn).get()).subject_cn);
}

TEST_F(CertificateNames, ANameWithANulByteIsLeftOut) {
    CertSpec spec;
    spec.common_name = "x";
    auto cert = issue(spec);
    // "billing.corp.example\0.evil.example" as a SAN DNS name: never "billing.corp.example".
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    static constexpr char kCrafted[] = "billing.corp.example\0.evil.example";
    ASN1_STRING_set(text, kCrafted, sizeof kCrafted - 1);
    GENERAL_NAME_set0_value(name, GEN_DNS, text);
    sk_GENERAL_NAME_push(names, name);
    ASSERT_EQ(X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT), 1);
    GENERAL_NAMES_free(names);
    EXPECT_TRUE(certificate_names(cert.get()).san_dns.empty());
}

TEST_F(CertificateNames, ManyNamesAreBounded) {
    CertSpec spec;
    for (int i = 0; i < 200; ++i) spec.san.push_back("DNS:n" + std::to_string(i) + ".example");
    const auto names = certificate_names(issue(spec).get());
    EXPECT_EQ(names.san_dns.size(), 64u);
    EXPECT_EQ(names.san_dns.front(), "n0.example");
}

}  // namespace
}  // namespace giosg::net
