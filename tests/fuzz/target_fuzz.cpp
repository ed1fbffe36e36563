// Fuzzes http::parse_target and append_forward_target with arbitrary bytes: never a crash, and
// whatever is accepted obeys every target rule of docs/reference.md §3 (see target_properties.hpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "target_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    giosg::fuzz::check_target(giosg::fuzz::as_text(data, size));
    return 0;
}
