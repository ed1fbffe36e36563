// docs/reference.md §7 end to end: keys with ids and expiry, and JWTs signed with keys made at test time,
// through the real server; the audit record's identity and auth_error; gen-key and hash-key.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <regex>
#include <string>

#include "common/sha256.hpp"
#include "harness.hpp"
#include "jwt_test_keys.hpp"

namespace giosg::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kUsersMe = "/api/v5/users/me";
constexpr const char* kOldKey = "rotating-old-key-0123456789abcdef";
constexpr const char* kNewKey = "rotating-new-key-0123456789abcdef";

std::string clients_with_rotating_keys() {
    return R"(    "rotating": {"keys": [
        {"id": "2020-q1", "sha256": ")" + format_key_digest(sha256(kOldKey)) + R"(", "not_after": "2020-04-01T00:00:00Z"},
        {"id": "2026-q4", "sha256": ")" + format_key_digest(sha256(kNewKey)) + R"(", "not_after": "2099-01-01T00:00:00Z"}],
      "credential": "giosg", "scopes": ["users"], "organizations": ["*"]},)";
}

HarnessOptions file_policy() {
    HarnessOptions o;
    o.policy_source = "file";
    return o;
}

std::pair<std::string, std::string> bearer(std::string_view token) {
    return {"Authorization", "Bearer " + std::string(token)};
}

std::string str(const json::object& record, std::string_view key) {
    const auto* v = record.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<none>");
}

TEST(IdentityKeys, RotatedKeysAreAuditedByIdAndAnExpiredOneIs401) {
    HarnessOptions options = file_policy();
    options.clients_json = clients_with_rotating_keys();
    Harness h(options);
    const auto fresh = request(h.port(), "GET", kUsersMe, {bearer(kNewKey)});
    EXPECT_EQ(fresh.status, 200) << fresh.body;
    const auto expired = request(h.port(), "GET", kUsersMe, {bearer(kOldKey)});
    const auto unknown = request(h.port(), "GET", kUsersMe, {bearer("no-such-key-0123456789abcdef0123")});
    EXPECT_EQ(expired.status, 401);
    EXPECT_EQ(expired.header("WWW-Authenticate"), unknown.header("WWW-Authenticate"));
    EXPECT_EQ(json::value_to<std::string>(expired.json().at("detail")),
              json::value_to<std::string>(unknown.json().at("detail")));
    const auto shorthand = request(h.port(), "GET", kUsersMe, {auth(kKeyFull)});
    EXPECT_EQ(shorthand.status, 200);
    EXPECT_EQ(h.mock().received().size(), 2u);

    const auto records = h.audit_records(4);
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(str(records[0], "client"), "rotating");
    EXPECT_EQ(str(records[0], "identity"), "key:2026-q4");
    EXPECT_EQ(str(records[1], "identity"), "<none>");
    EXPECT_EQ(str(records[1], "auth_error"), "key_expired");
    EXPECT_EQ(str(records[2], "auth_error"), "unknown_key");
    EXPECT_EQ(str(records[3], "identity"), "key");
    const std::string text = h.audit_text();
    EXPECT_EQ(text.find(kOldKey), std::string::npos);
    EXPECT_EQ(text.find(kNewKey), std::string::npos);
}

// ---- JWT -------------------------------------------------------------------------------------

struct JwtSetup {
    TestSigner rsa{TestSigner::Kind::rsa, "rsa-2026"};
    TestSigner ed{TestSigner::Kind::ed25519, "ed-2026"};
};

const JwtSetup& jwt_setup() {
    static const JwtSetup s;
    return s;
}

std::string claims(std::string sub, std::int64_t exp_offset_s = 300) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return R"({"iss":"https://idp.corp.example","aud":["giosg-gateway"],"sub":")" + sub + R"(","exp":)" +
           std::to_string(now + exp_offset_s) + "}";
}

HarnessOptions jwt_options(const std::filesystem::path& jwks) {
    HarnessOptions options = file_policy();
    options.top_json = R"("jwt": {"issuer": "https://idp.corp.example", "audience": "giosg-gateway", "jwks_file": )" +
                       std::string("\"") + jwks.string() + R"(", "leeway_s": 5})";
    options.clients_json = R"(    "svc": {"jwt_subject": "svc-billing", "credential": "giosg", "scopes": ["users"], "organizations": ["*"]},)";
    return options;
}

class IdentityJwt : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = make_temp_dir("giosg-jwks");
        write_text(dir_ / "jwks.json", jwks_of({&jwt_setup().rsa, &jwt_setup().ed}));
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::filesystem::path dir_;
};

TEST_F(IdentityJwt, VerifiedTokenIsForwardedWithTheServerTokenAndNeverAudited) {
    Harness h(jwt_options(dir_ / "jwks.json"));
    const std::string token = jwt_setup().rsa.token(claims("svc-billing"));
    const auto first = request(h.port(), "GET", kUsersMe, {bearer(token)});
    EXPECT_EQ(first.status, 200) << first.body;
    const auto again = request(h.port(), "GET", kUsersMe, {bearer(token)});  // from the cache
    EXPECT_EQ(again.status, 200) << again.body;
    const auto ed = request(h.port(), "GET", kUsersMe, {bearer(jwt_setup().ed.token(claims("svc-billing")))});
    EXPECT_EQ(ed.status, 200) << ed.body;

    const auto received = h.mock().received();
    ASSERT_EQ(received.size(), 3u);
    for (const auto& r : received) {
        EXPECT_EQ(r.header("Authorization"), "Token " + std::string(kUpstreamToken));
        for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find(token.substr(0, 40)), std::string::npos);
    }
    const auto records = h.audit_records(3);
    ASSERT_EQ(records.size(), 3u);
    for (const auto& record : records) {
        EXPECT_EQ(str(record, "client"), "svc");
        EXPECT_EQ(str(record, "identity"), "jwt");
    }
    const std::string text = h.audit_text();
    EXPECT_EQ(text.find(token.substr(0, 40)), std::string::npos);
    EXPECT_EQ(text.find(token.substr(token.rfind('.') + 1)), std::string::npos);
    EXPECT_EQ(Harness::log_text().find(token.substr(token.rfind('.') + 1)), std::string::npos);
}

TEST_F(IdentityJwt, RefusedTokensAre401WithTheReasonOnlyInTheAudit) {
    Harness h(jwt_options(dir_ / "jwks.json"));
    const TestSigner stranger(TestSigner::Kind::rsa, "rsa-2026");
    const std::string tokens[] = {
        jwt_setup().rsa.token(claims("svc-billing", -3600)),                             // expired
        jwt_setup().rsa.token(claims("svc-unknown")),                                    // no such subject
        stranger.token(claims("svc-billing")),                                           // bad signature
        hs256_token(R"({"alg":"HS256","kid":"rsa-2026"})", claims("svc-billing"), jwt_setup().rsa.public_pem()),
    };
    for (const auto& token : tokens) {
        const auto r = request(h.port(), "GET", kUsersMe, {bearer(token)});
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.body.find("jwt"), std::string::npos) << r.body;  // the reason stays in the audit
        EXPECT_EQ(r.body.find("expired"), std::string::npos) << r.body;
    }
    EXPECT_TRUE(h.mock().received().empty());
    const auto records = h.audit_records(4);
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(str(records[0], "auth_error"), "jwt_expired");
    EXPECT_EQ(str(records[1], "auth_error"), "jwt_unknown_subject");
    EXPECT_EQ(str(records[2], "auth_error"), "jwt_bad_signature");
    EXPECT_EQ(str(records[3], "auth_error"), "jwt_alg_not_allowed");
    for (const auto& record : records) EXPECT_TRUE(record.at("client").is_null());
}

TEST_F(IdentityJwt, CheckReportsAnUnreadableJwks) {
    HarnessOptions options = jwt_options(dir_ / "jwks.json");
    Harness h(options);
    write_text(dir_ / "jwks.json", R"({"keys": []})");
    const auto r = run_gateway(h.dir(), {"check", "--config", h.config_file().string()}, 30s);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/jwt/jwks_file: "), std::string::npos) << r.err;
}

// ---- gen-key, hash-key -------------------------------------------------------------------------

TEST(IdentityCli, GenKeyPrintsA256BitKeyAndItsHash) {
    const auto dir = make_temp_dir("giosg-genkey");
    const auto first = run_gateway(dir, {"gen-key"}, 30s);
    const auto second = run_gateway(dir, {"gen-key"}, 30s);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto doc = json::parse(first.out).as_object();
    EXPECT_EQ(doc.size(), 2u);
    const std::string key(doc.at("key").as_string());
    EXPECT_TRUE(std::regex_match(key, std::regex("[A-Za-z0-9_-]{43}"))) << key;
    EXPECT_EQ(std::string(doc.at("key_sha256").as_string()), format_key_digest(sha256(key)));
    EXPECT_NE(first.out, second.out);
    std::filesystem::remove_all(dir);
}

TEST(IdentityCli, HashKeyWarnsAboutAShortKey) {
    const auto dir = make_temp_dir("giosg-hashkey");
    write_text(dir / "short.txt", "short-key\n");
    write_text(dir / "long.txt", std::string(43, 'k') + "\n");
    const auto short_key = run_gateway(dir, {"hash-key"}, 30s, "short.txt");
    EXPECT_EQ(short_key.exit_code, 0);
    EXPECT_EQ(short_key.out, format_key_digest(sha256("short-key")) + "\n");
    EXPECT_NE(short_key.err.find("warning"), std::string::npos) << short_key.err;
    const auto long_key = run_gateway(dir, {"hash-key"}, 30s, "long.txt");
    EXPECT_EQ(long_key.exit_code, 0);
    EXPECT_EQ(long_key.err.find("warning"), std::string::npos) << long_key.err;
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace giosg::testing
