#pragma once
// base64url without padding (RFC 4648 §5), the alphabet of JWTs, JWKs and generated client keys.
// The decoder is strict: only the URL-safe alphabet, no padding, no whitespace, and the unused
// low bits of the last character must be zero, so every byte string has exactly one encoding.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace giosg {

/// Appends the unpadded base64url form of `bytes` to `out`.
void base64url_append(std::span<const std::uint8_t> bytes, std::string& out);

/// The bytes of `text`, or nullopt when it is not strict unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace giosg
