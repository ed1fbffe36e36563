#pragma once
// Internal client keys are stored only as SHA-256 digests; `hash-key` and the authenticator
// share this code so the two can never disagree.
#include <initializer_list>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace giosg {

KeyDigest sha256(std::string_view data) noexcept;
/// SHA-256 of the concatenation of `parts` (the audit chain hashes a line in pieces).
KeyDigest sha256_of(std::initializer_list<std::string_view> parts) noexcept;

/// "sha256:" + 64 lower-case hex digits, the form `hash-key` prints.
std::string format_key_digest(const KeyDigest& digest);

/// Constant-time equality (CRYPTO_memcmp).
bool digest_equal(const KeyDigest& a, const KeyDigest& b) noexcept;

}  // namespace giosg
