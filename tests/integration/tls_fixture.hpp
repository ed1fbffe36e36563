#pragma once
// What the TLS and mTLS integration tests share: a test CA and a server certificate for
// localhost / 127.0.0.1 made at test time, the gateway's "tls" member for them, and a client
// that trusts the CA.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "harness.hpp"
#include "test_pki.hpp"
#include "tls_client.hpp"

namespace giosg::testing {

inline std::string quoted(const std::filesystem::path& path) {
    return boost::json::serialize(boost::json::value(path.string()));
}

/// A CA and a server certificate for localhost / 127.0.0.1, in a folder removed afterwards.
class TlsFixture : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = make_temp_dir("giosg-tls");
        ca_ = std::make_unique<TestCa>(dir_, "gw-ca");
        CertSpec server;
        server.common_name = "localhost";
        server.san = {"DNS:localhost", "IP:127.0.0.1"};
        server.server = true;
        server_ = ca_->issue("server", server);
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    [[nodiscard]] std::string tls_json(const std::string& extra = "") const {
        return R"("tls": {"cert_file": )" + quoted(server_.cert_file()) + R"(, "key_file": )" +
               quoted(server_.key_file()) + (extra.empty() ? "" : ", " + extra) + "}";
    }
    [[nodiscard]] HarnessOptions options(const std::string& extra = "") const {
        HarnessOptions o;
        o.policy_source = "file";
        o.top_json = tls_json(extra);
        return o;
    }
    [[nodiscard]] TlsClientOptions client() const {
        TlsClientOptions c;
        c.ca_file = ca_->ca_file();
        return c;
    }

    std::filesystem::path dir_;
    std::unique_ptr<TestCa> ca_;
    TestCert server_;
};

}  // namespace giosg::testing
