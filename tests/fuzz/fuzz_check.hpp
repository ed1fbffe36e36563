#pragma once
// Shared by the fuzz targets: a property check that survives NDEBUG (assert() would vanish in the
// RelWithDebInfo builds that fuzz, and a property compiled out finds nothing), plus the small
// helpers that more than one target needs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

/// Aborts with the failed property; libFuzzer then saves the input as crash-<sha1>.
#define FUZZ_CHECK(condition)                                                                   \
    do {                                                                                        \
        if (!(condition)) {                                                                     \
            std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                       \
        }                                                                                       \
    } while (false)

namespace giosg::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// Deterministic "randomness" for split points: the same input always splits the same way, so
/// a saved crash reproduces. FNV-1a, 64 bit.
inline std::uint64_t input_hash(std::string_view bytes) noexcept {
    std::uint64_t hash = 0xcbf29ce484222325u;
    for (char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3u;
    }
    return hash;
}

/// A sub-view check: `part` lies inside `whole` (the zero-copy parsers promise views, not copies).
inline bool is_inside(std::string_view part, std::string_view whole) noexcept {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

/// Splits on every `separator`; "" gives one empty part, like the wire formats it models.
inline std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (;;) {
        const std::size_t at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

inline bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace giosg::fuzz
