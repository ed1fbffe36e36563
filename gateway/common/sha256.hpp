#pragma once
// SHA-256 for everything that hashes: internal client keys are stored only as digests, and
// `hash-key`, the client table and the audit chain share this code so they can never disagree.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace giosg {

using KeyDigest = std::array<std::uint8_t, 32>;

KeyDigest sha256(std::string_view data) noexcept;
/// SHA-256 of the concatenation of `parts` (the audit chain hashes a line in pieces).
KeyDigest sha256_of(std::initializer_list<std::string_view> parts) noexcept;

/// "sha256:" + 64 lower-case hex digits, the form `hash-key` prints.
std::string format_key_digest(const KeyDigest& digest);

/// Constant-time equality (CRYPTO_memcmp).
bool digest_equal(const KeyDigest& a, const KeyDigest& b) noexcept;

}  // namespace giosg
