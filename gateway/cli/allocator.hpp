#pragma once
// Which allocator this process runs on, for --version and the start-up line: a deployment can
// then tell whether its binary returns idle memory (jemalloc) or not (glibc's malloc).
#include <string>

namespace giosg::cli {

/// "jemalloc <version>" when jemalloc is linked in, else "glibc malloc".
[[nodiscard]] std::string allocator_name();

}  // namespace giosg::cli
