// Replays a fuzz target's LLVMFuzzerTestOneInput over its seed corpus without libFuzzer, so the
// seeds (and every crash input kept once fixed) run as an ordinary ctest with any compiler.
//
//   <target>_regression CORPUS_DIR_OR_FILE...
//
// A few edge inputs are always run as well: empty, every single byte, and 64 KiB of 'A'.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// Which input is running, for the crash handler: a failed FUZZ_CHECK aborts, and the name of
// the seed that did it is the first thing whoever reads the ctest log needs.
const char* g_current_input = "";

extern "C" void report_current_input(int signal_number) {
    constexpr char kPrefix[] = "fuzz regression: crashed on input: ";
    (void)!::write(STDERR_FILENO, kPrefix, sizeof kPrefix - 1);
    (void)!::write(STDERR_FILENO, g_current_input, std::strlen(g_current_input));
    (void)!::write(STDERR_FILENO, "\n", 1);
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

void run(const std::string& name, const std::string& bytes) {
    g_current_input = name.c_str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

bool read_file(const std::filesystem::path& path, std::string& bytes) {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

/// Regular files under `root` (or `root` itself), sorted so runs are reproducible.
std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& root, std::error_code& ec) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_regular_file(root, ec)) {
        files.push_back(root);
        return files;
    }
    for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGABRT, report_current_input);
    std::signal(SIGSEGV, report_current_input);
    std::signal(SIGFPE, report_current_input);

    std::size_t count = 0;
    run("<empty>", std::string());
    ++count;
    for (int byte = 0; byte < 256; ++byte) {
        run("<byte " + std::to_string(byte) + ">", std::string(1, static_cast<char>(byte)));
        ++count;
    }
    run("<64 KiB of 'A'>", std::string(64 * 1024, 'A'));
    ++count;

    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        const std::vector<std::filesystem::path> files = corpus_files(argv[i], ec);
        // A missing or empty corpus would pass silently and test nothing.
        if (ec || files.empty()) {
            std::fprintf(stderr, "fuzz regression: no corpus files in %s%s%s\n", argv[i],
                         ec ? ": " : "", ec ? ec.message().c_str() : "");
            return 1;
        }
        for (const std::filesystem::path& file : files) {
            std::string bytes;
            if (!read_file(file, bytes)) {
                std::fprintf(stderr, "fuzz regression: cannot read %s\n", file.c_str());
                return 1;
            }
            run(file.string(), bytes);
            ++count;
        }
    }
    std::printf("%zu inputs ok\n", count);
    return 0;
}
