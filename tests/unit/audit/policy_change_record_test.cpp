// The `policy_change` audit record (docs/audit.md): its members, and what the verifier accepts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <string>

#include "audit/policy_change_record.hpp"

namespace giosg {
namespace {

namespace json = boost::json;

json::object record_of(const PolicyChange& change) {
    std::string line;
    append_policy_change_json(change, std::chrono::system_clock::time_point(std::chrono::milliseconds(1764932400123)), line);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    return json::parse(line).as_object();
}

TEST(PolicyChangeRecord, HeldScopeChangeCarriesBothLists) {
    PolicyChange change;
    change.change = '~';
    change.pattern = "/api/v5/orgs/<organization_id>/rooms";
    change.method = "GET";
    change.scopes = std::vector<std::string>{"users", "reports"};
    change.previous_scopes = {"settings", "users"};
    change.applied = false;
    const auto r = record_of(change);
    EXPECT_EQ(r.at("kind"), "policy_change");
    EXPECT_EQ(r.at("ts"), "2025-12-05T11:00:00.123Z");
    EXPECT_EQ(r.at("change"), "~");
    EXPECT_EQ(r.at("pattern"), "/api/v5/orgs/<organization_id>/rooms");
    EXPECT_EQ(r.at("method"), "GET");
    EXPECT_EQ(r.at("scopes"), json::array({"users", "reports"}));
    EXPECT_EQ(r.at("previous_scopes"), json::array({"settings", "users"}));
    EXPECT_EQ(r.at("applied"), false);
    EXPECT_EQ(r.size(), 8u);
}

TEST(PolicyChangeRecord, RemovalHasNullScopesAndNoPreviousList) {
    PolicyChange change;
    change.change = '-';
    change.pattern = "/a";
    change.method = "DELETE";
    change.previous_scopes = {"settings"};
    const auto r = record_of(change);
    EXPECT_TRUE(r.at("scopes").is_null());
    EXPECT_FALSE(r.contains("previous_scopes"));
    EXPECT_EQ(r.at("applied"), true);
}

TEST(PolicyChangeRecord, NamesAreEscaped) {
    PolicyChange change;
    change.change = '+';
    change.pattern = "/a\"b\\c";
    change.method = "GET";
    change.scopes = std::vector<std::string>{"x\ny"};
    const auto r = record_of(change);
    EXPECT_EQ(r.at("pattern"), "/a\"b\\c");
    EXPECT_EQ(r.at("scopes"), json::array({"x\ny"}));
}

}  // namespace
}  // namespace giosg
