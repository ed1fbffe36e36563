#include "config/read_file.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "common/format.hpp"

namespace giosg::config_detail {
namespace {

struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

}  // namespace

bool read_file(const std::filesystem::path& path, std::size_t max_bytes, std::string& content, std::string& error) {
    content.clear();
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) {
        error = "cannot read " + path.string() + ": " + errno_text(errno);
        return false;
    }
    char buffer[4096];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        content.append(buffer, n);
        if (content.size() > max_bytes) {
            error = path.string() + " is larger than " + std::to_string(max_bytes) + " bytes";
            return false;
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get()) != 0) {
        error = "cannot read " + path.string() + ": " + errno_text(errno);
        return false;
    }
    return true;
}

}  // namespace giosg::config_detail
