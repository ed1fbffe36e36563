#pragma once
// Reading a whole small file: the config itself and token files.
#include <cstddef>
#include <filesystem>
#include <string>

namespace giosg::config_detail {

/// Reads a whole file of at most `max_bytes`. Works for FIFOs and /dev/fd too (secrets are
/// sometimes mounted that way), which is why it does not ask for the size first.
bool read_file(const std::filesystem::path& path, std::size_t max_bytes, std::string& content, std::string& error);

}  // namespace giosg::config_detail
