// ClientTable: step 2 of docs/reference.md §3, who is calling.
#include "identity/client_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.hpp"

namespace giosg {
namespace {

ClientConfig client(std::string name, std::string_view key) {
    ClientConfig result;
    result.name = std::move(name);
    result.key_sha256 = sha256(key);
    result.credential = "acme";
    result.scopes = kScopeReports;
    result.scope_names = {"reports"};
    result.organizations = {"org-1"};
    return result;
}

ClientTable three_clients() {
    return ClientTable({client("billing", "billing-key"), client("support", "support-key"),
                        client("reports", "reports-key")});
}

void expect_authenticated_as(const AuthResult& result, std::string_view name, std::size_t index) {
    EXPECT_EQ(result.reason, Reason::ok);
    ASSERT_NE(result.client, nullptr);
    EXPECT_EQ(result.client->name, name);
    EXPECT_EQ(result.client_index, index);
}

void expect_refused(const AuthResult& result) {
    EXPECT_EQ(result.reason, Reason::not_authenticated);
    EXPECT_EQ(result.client, nullptr);
}

TEST(ClientTable, BearerSchemeAuthenticates) {
    const ClientTable table = three_clients();
    expect_authenticated_as(table.authenticate("Bearer billing-key", 1), "billing", 0);
}

TEST(ClientTable, TokenSchemeAuthenticates) {
    const ClientTable table = three_clients();
    expect_authenticated_as(table.authenticate("Token billing-key", 1), "billing", 0);
}

TEST(ClientTable, SchemeIsCaseInsensitive) {
    const ClientTable table = three_clients();
    expect_authenticated_as(table.authenticate("bearer billing-key", 1), "billing", 0);
    expect_authenticated_as(table.authenticate("BEARER billing-key", 1), "billing", 0);
    expect_authenticated_as(table.authenticate("TOKEN billing-key", 1), "billing", 0);
    expect_authenticated_as(table.authenticate("token billing-key", 1), "billing", 0);
    expect_authenticated_as(table.authenticate("ToKeN billing-key", 1), "billing", 0);
}

TEST(ClientTable, KeyIsCaseSensitive) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearer BILLING-KEY", 1));
    expect_refused(table.authenticate("Bearer Billing-key", 1));
}

TEST(ClientTable, BasicSchemeIsRefused) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Basic billing-key", 1));
    expect_refused(table.authenticate("Basic YmlsbGluZzpiaWxsaW5nLWtleQ==", 1));
}

TEST(ClientTable, OtherSchemesAndPrefixesAreRefused) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearers billing-key", 1));
    expect_refused(table.authenticate("Bear billing-key", 1));
    expect_refused(table.authenticate("Tokens billing-key", 1));
    expect_refused(table.authenticate("Digest billing-key", 1));
    expect_refused(table.authenticate("billing-key", 1));
}

TEST(ClientTable, MissingKeyIsRefused) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("", 1));
    expect_refused(table.authenticate("Bearer", 1));
    expect_refused(table.authenticate("Bearer ", 1));
    expect_refused(table.authenticate("Token   ", 1));
}

TEST(ClientTable, ExtraSpacesAroundTheKeyAreRefused) {
    const ClientTable table = three_clients();
    // Trailing whitespace is not part of any issued key and is not trimmed into one.
    expect_refused(table.authenticate("Bearer billing-key ", 1));
    expect_refused(table.authenticate("Bearer billing-key\t", 1));
    expect_refused(table.authenticate(" Bearer billing-key", 1));
    expect_refused(table.authenticate("Bearer\tbilling-key", 1));
}

TEST(ClientTable, InnerWhitespaceInTheKeyIsRefused) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearer billing -key", 1));
    expect_refused(table.authenticate("Bearer billing\t-key", 1));
    expect_refused(table.authenticate("Bearer billing-key billing-key", 1));
}

TEST(ClientTable, UnknownKeyIsNotAuthenticated) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearer not-a-key", 1));
    expect_refused(table.authenticate("Token billing-key2", 1));
    expect_refused(table.authenticate("Token billing-ke", 1));
}

TEST(ClientTable, NoAuthorizationHeaderIsNotAuthenticatedEvenWithAValidValue) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearer billing-key", 0));
}

TEST(ClientTable, TwoAuthorizationHeadersAreNotAuthenticatedEvenWithAValidKey) {
    const ClientTable table = three_clients();
    expect_refused(table.authenticate("Bearer billing-key", 2));
    expect_refused(table.authenticate("Bearer billing-key", 3));
}

TEST(ClientTable, ClientIndexIsThePositionInConfigOrder) {
    const ClientTable table = three_clients();
    expect_authenticated_as(table.authenticate("Bearer billing-key", 1), "billing", 0);
    expect_authenticated_as(table.authenticate("Token support-key", 1), "support", 1);
    expect_authenticated_as(table.authenticate("bearer reports-key", 1), "reports", 2);
}

TEST(ClientTable, AuthenticatedClientPointsIntoTheTable) {
    const ClientTable table = three_clients();
    const AuthResult result = table.authenticate("Bearer support-key", 1);
    ASSERT_EQ(result.reason, Reason::ok);
    EXPECT_EQ(result.client, &table.clients()[result.client_index]);
}

TEST(ClientTable, EmptyTableAuthenticatesNobody) {
    const ClientTable table({});
    expect_refused(table.authenticate("Bearer billing-key", 1));
}

TEST(ClientTable, DefaultResultIsNotAuthenticated) {
    const AuthResult result;
    EXPECT_EQ(result.reason, Reason::not_authenticated);
    EXPECT_EQ(result.client, nullptr);
}

TEST(ClientTable, FindLooksClientsUpByExactName) {
    const ClientTable table = three_clients();
    const ClientConfig* support = table.find("support");
    ASSERT_NE(support, nullptr);
    EXPECT_EQ(support->name, "support");
    EXPECT_EQ(support, &table.clients()[1]);
    EXPECT_EQ(table.find("Support"), nullptr);
    EXPECT_EQ(table.find("supp"), nullptr);
    EXPECT_EQ(table.find(""), nullptr);
    EXPECT_EQ(table.find("nobody"), nullptr);
}

TEST(ClientTable, ClientsKeepsConfigOrder) {
    const ClientTable table = three_clients();
    ASSERT_EQ(table.clients().size(), 3u);
    EXPECT_EQ(table.clients()[0].name, "billing");
    EXPECT_EQ(table.clients()[1].name, "support");
    EXPECT_EQ(table.clients()[2].name, "reports");
}

struct ExtractCase {
    std::string_view authorization;
    std::string_view key;  // "" = refused
};

class ExtractClientKey : public ::testing::TestWithParam<ExtractCase> {};

TEST_P(ExtractClientKey, ReturnsTheKeyOrNothing) {
    EXPECT_EQ(extract_client_key(GetParam().authorization), GetParam().key)
        << "authorization: \"" << GetParam().authorization << '"';
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExtractClientKey,
    ::testing::Values(ExtractCase{"Bearer abc", "abc"}, ExtractCase{"Token abc", "abc"},
                      ExtractCase{"bearer abc", "abc"}, ExtractCase{"TOKEN abc", "abc"},
                      ExtractCase{"BeArEr abc", "abc"}, ExtractCase{"Bearer a.b-c_d~e+f/g=", "a.b-c_d~e+f/g="},
                      ExtractCase{"Bearer  abc", "abc"},  // RFC 7235 §2.1: 1*SP after the scheme
                      ExtractCase{"Basic abc", ""}, ExtractCase{"Bearer", ""}, ExtractCase{"Bearer ", ""},
                      ExtractCase{"Token  ", ""}, ExtractCase{"", ""}, ExtractCase{" ", ""},
                      ExtractCase{"abc", ""}, ExtractCase{"Bearer a b", ""}, ExtractCase{"Bearer a\tb", ""},
                      ExtractCase{"Bearer abc ", ""}, ExtractCase{"Bearer abc\t", ""},
                      ExtractCase{" Bearer abc", ""}, ExtractCase{"Bearer\tabc", ""},
                      ExtractCase{"Bearerabc", ""}, ExtractCase{"Tokenabc", ""}));

}  // namespace
}  // namespace giosg
