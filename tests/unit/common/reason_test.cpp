// Reason codes (docs/reference.md §3) and the Secret type.
#include "common/reason.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "common/secret.hpp"

namespace giosg {
namespace {

Reason reason_at(int index) { return static_cast<Reason>(index); }

TEST(Reason, EveryReasonHasADistinctNonEmptyCode) {
    std::set<std::string_view> codes;
    for (int i = 0; i < kReasonCount; ++i) {
        const std::string_view code = reason_code(reason_at(i));
        EXPECT_FALSE(code.empty()) << "reason #" << i;
        EXPECT_TRUE(codes.insert(code).second) << "duplicate code " << code;
    }
    EXPECT_EQ(codes.size(), static_cast<std::size_t>(kReasonCount));
}

TEST(Reason, CodesAreLowerSnakeCase) {
    for (int i = 0; i < kReasonCount; ++i) {
        for (const char c : reason_code(reason_at(i))) {
            EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << reason_code(reason_at(i));
        }
    }
}

TEST(Reason, CodesAreSpelledAsTheContractSpellsThem) {
    EXPECT_EQ(reason_code(Reason::ok), "ok");
    EXPECT_EQ(reason_code(Reason::bad_request), "bad_request");
    EXPECT_EQ(reason_code(Reason::not_authenticated), "not_authenticated");
    EXPECT_EQ(reason_code(Reason::unknown_endpoint), "unknown_endpoint");
    EXPECT_EQ(reason_code(Reason::method_not_allowed), "method_not_allowed");
    EXPECT_EQ(reason_code(Reason::organization_forbidden), "organization_forbidden");
    EXPECT_EQ(reason_code(Reason::insufficient_scope), "insufficient_scope");
    EXPECT_EQ(reason_code(Reason::upstream_unavailable), "upstream_unavailable");
    EXPECT_EQ(reason_code(Reason::upstream_timeout), "upstream_timeout");
    EXPECT_EQ(reason_code(Reason::payload_too_large), "payload_too_large");
    EXPECT_EQ(reason_code(Reason::headers_too_large), "headers_too_large");
    EXPECT_EQ(reason_code(Reason::request_timeout), "request_timeout");
    EXPECT_EQ(reason_code(Reason::client_closed), "client_closed");
    EXPECT_EQ(reason_code(Reason::audit_unavailable), "audit_unavailable");
}

TEST(Reason, StatusFollowsTheContract) {
    EXPECT_EQ(reason_status(Reason::ok), 200);
    EXPECT_EQ(reason_status(Reason::bad_request), 400);
    EXPECT_EQ(reason_status(Reason::headers_too_large), 431);
    EXPECT_EQ(reason_status(Reason::payload_too_large), 413);
    EXPECT_EQ(reason_status(Reason::request_timeout), 408);
    EXPECT_EQ(reason_status(Reason::not_authenticated), 401);
    EXPECT_EQ(reason_status(Reason::unknown_endpoint), 404);
    EXPECT_EQ(reason_status(Reason::method_not_allowed), 405);
    EXPECT_EQ(reason_status(Reason::organization_forbidden), 403);
    EXPECT_EQ(reason_status(Reason::insufficient_scope), 403);
    EXPECT_EQ(reason_status(Reason::upstream_unavailable), 502);
    EXPECT_EQ(reason_status(Reason::upstream_timeout), 504);
    EXPECT_EQ(reason_status(Reason::audit_unavailable), 503);
    EXPECT_EQ(reason_status(Reason::client_closed), 499);
}

TEST(Reason, EveryErrorHasAnErrorStatusAndADetail) {
    for (int i = 0; i < kReasonCount; ++i) {
        const Reason reason = reason_at(i);
        if (reason == Reason::ok) continue;
        EXPECT_GE(reason_status(reason), 400) << reason_code(reason);
        EXPECT_LT(reason_status(reason), 600) << reason_code(reason);
        EXPECT_FALSE(reason_detail(reason).empty()) << reason_code(reason);
    }
}

TEST(Reason, EveryStatusHasAKnownPhrase) {
    for (int i = 0; i < kReasonCount; ++i) {
        EXPECT_NE(status_phrase(reason_status(reason_at(i))), "Unknown") << reason_code(reason_at(i));
    }
}

TEST(Reason, StatusPhraseForCommonCodes) {
    EXPECT_EQ(status_phrase(200), "OK");
    EXPECT_EQ(status_phrase(204), "No Content");
    EXPECT_EQ(status_phrase(400), "Bad Request");
    EXPECT_EQ(status_phrase(401), "Unauthorized");
    EXPECT_EQ(status_phrase(403), "Forbidden");
    EXPECT_EQ(status_phrase(404), "Not Found");
    EXPECT_EQ(status_phrase(405), "Method Not Allowed");
    EXPECT_EQ(status_phrase(408), "Request Timeout");
    EXPECT_EQ(status_phrase(413), "Content Too Large");  // RFC 9110 §15.5.14
    EXPECT_EQ(status_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(status_phrase(499), "Client Closed Request");
    EXPECT_EQ(status_phrase(500), "Internal Server Error");
    EXPECT_EQ(status_phrase(502), "Bad Gateway");
    EXPECT_EQ(status_phrase(503), "Service Unavailable");
    EXPECT_EQ(status_phrase(504), "Gateway Timeout");
}

TEST(Reason, StatusPhraseForUnlistedCodeIsUnknown) {
    EXPECT_EQ(status_phrase(0), "Unknown");
    EXPECT_EQ(status_phrase(299), "Unknown");
    EXPECT_EQ(status_phrase(999), "Unknown");
    EXPECT_EQ(status_phrase(-1), "Unknown");
}

// ---------------------------------------------------------------------------------------------
// Secret

TEST(Secret, FmtPrintsRedacted) {
    const Secret secret("s3cr3t-token");
    EXPECT_EQ(fmt::format("{}", secret), "<redacted>");
    EXPECT_EQ(fmt::format("token={}!", secret), "token=<redacted>!");
}

TEST(Secret, StreamPrintsRedacted) {
    const Secret secret("s3cr3t-token");
    std::ostringstream out;
    out << secret;
    EXPECT_EQ(out.str(), "<redacted>");
}

TEST(Secret, RevealReturnsTheValue) {
    const Secret secret("s3cr3t-token");
    EXPECT_EQ(secret.reveal(), "s3cr3t-token");
    EXPECT_FALSE(secret.empty());
}

TEST(Secret, DefaultIsEmpty) {
    const Secret secret;
    EXPECT_TRUE(secret.empty());
    EXPECT_EQ(secret.reveal(), "");
    EXPECT_EQ(fmt::format("{}", secret), "<redacted>");
}

TEST(Secret, CopiesAndMovesKeepTheValue) {
    const Secret original("s3cr3t-token");
    const Secret copy = original;
    EXPECT_EQ(copy.reveal(), "s3cr3t-token");
    EXPECT_EQ(original.reveal(), "s3cr3t-token");
    Secret source("other-token");
    const Secret moved = std::move(source);
    EXPECT_EQ(moved.reveal(), "other-token");
    Secret assigned;
    assigned = copy;
    EXPECT_EQ(assigned.reveal(), "s3cr3t-token");
}

}  // namespace
}  // namespace giosg
