#pragma once
// Step 2 of the decision order, "identify": who is calling, by the internal client key in the
// Authorization field, or by the `sub` of a verified JWT. No Asio; takes the field values.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/reason.hpp"
#include "config/config.hpp"
#include "identity/jwt.hpp"
#include "identity/peer.hpp"

namespace giosg {

struct AuthResult {
    Reason reason = Reason::not_authenticated;  // ok or not_authenticated
    const ClientConfig* client = nullptr;
    std::size_t client_index = 0;               // index into ClientTable::clients()
    const ClientKey* key = nullptr;             // the "keys" entry; null for the key_sha256 shorthand
    bool expired = false;                       // the key matched, but is past its not_after
};

/// The configured clients, looked up by the SHA-256 of the presented key, or by JWT subject.
class ClientTable {
public:
    explicit ClientTable(std::vector<ClientConfig> clients, std::shared_ptr<const JwtVerifier> jwt = nullptr);

    /// `authorization_count` is how many Authorization fields the request carried and
    /// `authorization` the first one's value. Accepts "Bearer <key>" and "Token <key>" (scheme
    /// case-insensitive). Every configured digest is compared in constant time, without an early
    /// exit, so the time taken says nothing about which client (if any) was close. A key past
    /// its not_after at `now` is refused (`expired` says so).
    [[nodiscard]] AuthResult authenticate(std::string_view authorization, std::size_t authorization_count,
                                          std::chrono::system_clock::time_point now) const noexcept;
    /// The same at the current time (for callers without a clock of their own: explain, tests).
    [[nodiscard]] AuthResult authenticate(std::string_view authorization,
                                          std::size_t authorization_count) const noexcept;
    /// The key lookup alone, by the digest of the presented key.
    [[nodiscard]] AuthResult find_key(const KeyDigest& digest, std::chrono::system_clock::time_point now) const noexcept;

    [[nodiscard]] const ClientConfig* find(std::string_view name) const noexcept;
    /// The index of the client whose jwt_subject is `subject`, or -1.
    [[nodiscard]] std::ptrdiff_t find_subject(std::string_view subject) const noexcept;
    /// The index of the client whose "mtls" names one of the certificate's names (exact match);
    /// -1 when none does, kAmbiguous when its names lead to more than one client.
    [[nodiscard]] std::ptrdiff_t find_certificate(const PeerCertificate& certificate) const;
    static constexpr std::ptrdiff_t kAmbiguous = -2;
    /// The index of the client whose unix_uid is `uid`, or -1.
    [[nodiscard]] std::ptrdiff_t find_uid(std::uint32_t uid) const noexcept;
    [[nodiscard]] const std::vector<ClientConfig>& clients() const noexcept { return clients_; }
    /// The JWT verifier; null when no "jwt" is configured.
    [[nodiscard]] const JwtVerifier* jwt() const noexcept { return jwt_.get(); }
    /// Unique per table: caches of verified tokens are only valid for the table that verified them.
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

private:
    struct KeyEntry {
        KeyDigest digest{};
        std::uint32_t client = 0;
        std::int32_t key = -1;  // index into the client's keys; -1: the key_sha256 shorthand
    };
    std::vector<ClientConfig> clients_;
    std::vector<KeyEntry> keys_;
    // "mtls" names per field (MtlsMatch::Field), to client index.
    std::unordered_map<std::string, std::uint32_t> certificate_names_[3];
    std::shared_ptr<const JwtVerifier> jwt_;
    std::uint64_t generation_;
};

/// Extracts the key from "Bearer <key>" / "Token <key>"; empty when the value has another form.
std::string_view extract_client_key(std::string_view authorization) noexcept;

}  // namespace giosg
