// The transport keys of docs/reference.md §7: "tls", "listen" as "unix:PATH" or a list,
// "listen_mode", and per client "mtls" and "unix_uid".
#include "support.hpp"

namespace giosg {
namespace {

using namespace config_test;

json::object tls_section() { return json::object{{"cert_file", "gw.crt"}, {"key_file", "/etc/keys/gw.key"}}; }

TEST(TransportConfig, TlsIsReadWithPathsAgainstTheConfigFolder) {
    const Config config = parsed_after([](json::object& c) {
        auto tls = tls_section();
        tls["client_ca_file"] = "clients-ca.pem";
        tls["min_version"] = "1.3";
        tls["handshake_timeout_ms"] = 750;
        c["tls"] = tls;
    });
    ASSERT_TRUE(config.tls);
    EXPECT_EQ(config.tls->cert_file, kBaseDir / "gw.crt");
    EXPECT_EQ(config.tls->key_file, "/etc/keys/gw.key");
    EXPECT_EQ(config.tls->client_ca_file, kBaseDir / "clients-ca.pem");
    EXPECT_TRUE(config.tls->min_tls13);
    EXPECT_EQ(config.tls->handshake_timeout, std::chrono::milliseconds(750));
    const Config defaults = parsed_after([](json::object& c) { c["tls"] = tls_section(); });
    ASSERT_TRUE(defaults.tls);
    EXPECT_FALSE(defaults.tls->min_tls13);
    EXPECT_FALSE(defaults.tls->client_ca_file);
    EXPECT_EQ(defaults.tls->handshake_timeout, std::chrono::milliseconds(5000));
}

TEST(TransportConfig, TlsProblemsNameTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) { c["tls"] = json::object{{"key_file", "k"}}; }),
                ElementsAre("/tls/cert_file: missing required key"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    auto tls = tls_section();
                    tls["min_version"] = "1.1";
                    c["tls"] = tls;
                }),
                ElementsAre(HasSubstr("/tls/min_version: ")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    auto tls = tls_section();
                    tls["ciphers"] = "ALL";
                    c["tls"] = tls;
                }),
                ElementsAre("/tls/ciphers: unknown key"));
    EXPECT_THAT(errors_after([](json::object& c) {
                    auto tls = tls_section();
                    tls["handshake_timeout_ms"] = 0;
                    c["tls"] = tls;
                }),
                ElementsAre(HasSubstr("/tls/handshake_timeout_ms: ")));
}

TEST(TransportConfig, ListenTakesAUnixSocketOrOneOfEach) {
    const Config unix_only = parsed_after([](json::object& c) {
        c["listen"] = "unix:/run/giosg-gateway/gw.sock";
        c["listen_mode"] = "0600";
    });
    EXPECT_FALSE(unix_only.listen_tcp);
    ASSERT_TRUE(unix_only.listen_unix);
    EXPECT_EQ(unix_only.listen_unix->path, "/run/giosg-gateway/gw.sock");
    EXPECT_EQ(unix_only.listen_unix->mode, 0600u);
    const Config both = parsed_after([](json::object& c) {
        c["listen"] = json::array{"127.0.0.1:8443", "unix:/run/gw.sock"};
        c["tls"] = tls_section();
    });
    EXPECT_TRUE(both.listen_tcp);
    EXPECT_EQ(both.listen.port, 8443);
    ASSERT_TRUE(both.listen_unix);
    EXPECT_EQ(both.listen_unix->mode, 0660u);
    const Config tcp = parsed_after([](json::object&) {});
    EXPECT_TRUE(tcp.listen_tcp);
    EXPECT_FALSE(tcp.listen_unix);
}

TEST(TransportConfig, ListenProblemsNameTheirPath) {
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = "unix:relative.sock"; }),
                ElementsAre(HasSubstr("/listen: unix:PATH must name an absolute path")));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = "unix:/" + std::string(200, 'a'); }),
                ElementsAre(HasSubstr("/listen: unix socket path must be at most")));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = json::array{"unix:/a.sock", "unix:/b.sock"}; }),
                ElementsAre("/listen/1: only one unix socket listener is supported"));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = json::array{"127.0.0.1:1", "127.0.0.1:2"}; }),
                ElementsAre("/listen/1: only one host:port listener is supported"));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = json::array{}; }),
                ElementsAre(HasSubstr("/listen: a list must hold one or two entries")));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen"] = json::array{8080}; }),
                ElementsAre(HasSubstr("/listen/0: must be a string")));
    EXPECT_THAT(errors_after([](json::object& c) { c["listen_mode"] = "0660"; }),
                ElementsAre(HasSubstr("/listen_mode: needs a unix socket listener")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["listen"] = "unix:/run/gw.sock";
                    c["listen_mode"] = "0066";
                }),
                ElementsAre(HasSubstr("/listen_mode: must be octal text")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["listen"] = "unix:/run/gw.sock";
                    c["tls"] = tls_section();
                }),
                ElementsAre(HasSubstr("/tls: needs a host:port entry in \"listen\"")));
}

TEST(TransportConfig, ClientsMayBeNamedByCertificateOrUid) {
    const Config config = parsed_after([](json::object& c) {
        c["listen"] = json::array{"127.0.0.1:8443", "unix:/run/gw.sock"};
        auto tls = tls_section();
        tls["client_ca_file"] = "ca.pem";
        c["tls"] = tls;
        billing(c).erase("key_sha256");
        billing(c)["mtls"] = json::object{{"san_uri", "spiffe://corp.example/billing"}};
        billing(c)["unix_uid"] = 1001;
    });
    const auto& client = config.clients.at(0);
    ASSERT_TRUE(client.mtls);
    EXPECT_EQ(client.mtls->field, MtlsMatch::Field::san_uri);
    EXPECT_EQ(client.mtls->value, "spiffe://corp.example/billing");
    EXPECT_EQ(client.unix_uid, 1001u);
}

TEST(TransportConfig, CertificateAndUidProblemsNameTheirPath) {
    const auto with_ca = [](json::object& c) {
        auto tls = tls_section();
        tls["client_ca_file"] = "ca.pem";
        c["tls"] = tls;
    };
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["mtls"] = json::object{{"san_dns", "a.example"}}; }),
                ElementsAre("/clients/billing/mtls: needs \"tls\" with \"client_ca_file\""));
    EXPECT_THAT(errors_after([&](json::object& c) {
                    with_ca(c);
                    billing(c)["mtls"] = json::object{{"san_dns", "a.example"}, {"subject_cn", "a"}};
                }),
                ElementsAre(HasSubstr("/clients/billing/mtls: must have exactly one of")));
    EXPECT_THAT(errors_after([&](json::object& c) {
                    with_ca(c);
                    billing(c)["mtls"] = json::object{{"spiffe_id", "x"}};
                }),
                ElementsAre("/clients/billing/mtls/spiffe_id: unknown key",
                            HasSubstr("/clients/billing/mtls: must have exactly one of")));
    EXPECT_THAT(errors_after([&](json::object& c) {
                    with_ca(c);
                    billing(c)["mtls"] = json::object{{"subject_cn", "svc"}};
                    auto other = billing(c);
                    other["key_sha256"] = digest_of('b');
                    section(c, "clients")["other"] = other;
                }),
                ElementsAre("/clients/other/mtls: same certificate name as client \"billing\""));
    EXPECT_THAT(errors_after([](json::object& c) { billing(c)["unix_uid"] = 1001; }),
                ElementsAre(HasSubstr("/clients/billing/unix_uid: needs a unix socket listener")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["listen"] = "unix:/run/gw.sock";
                    billing(c)["unix_uid"] = -1;
                }),
                ElementsAre(HasSubstr("/clients/billing/unix_uid: ")));
    EXPECT_THAT(errors_after([](json::object& c) {
                    c["listen"] = "unix:/run/gw.sock";
                    billing(c)["unix_uid"] = 7;
                    auto other = billing(c);
                    other["key_sha256"] = digest_of('b');
                    section(c, "clients")["other"] = other;
                }),
                ElementsAre("/clients/other/unix_uid: same uid as client \"billing\""));
}

}  // namespace
}  // namespace giosg
