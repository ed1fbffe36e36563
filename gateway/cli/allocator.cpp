#include "cli/allocator.hpp"

#include <algorithm>
#include <cstddef>

// jemalloc's control interface; weak, so that a build without jemalloc links and finds it null.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp, std::size_t newlen)
    __attribute__((weak));

namespace giosg::cli {

std::string allocator_name() {
    if (mallctl == nullptr) return "glibc malloc";
    const char* version = nullptr;
    std::size_t size = sizeof version;
    if (mallctl("version", static_cast<void*>(&version), &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
    // "5.3.0-0-g54eaed1d…": the release is enough.
    std::string release(version);
    release.resize(std::min(release.size(), release.find('-')));
    return "jemalloc " + release;
}

}  // namespace giosg::cli
