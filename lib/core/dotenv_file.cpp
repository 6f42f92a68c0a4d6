// SPDX-License-Identifier: Apache-2.0
// The file side of .env handling: finding the file and reading it. No sockets, only the
// file system, so it stays in lib/core next to the parser.
#include "core/dotenv.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <fstream>
#include <iterator>
#include <system_error>

namespace eci::detail {

namespace fs = std::filesystem;

std::optional<fs::path> find_dotenv(const fs::path& start) {
    std::error_code ec;
    fs::path dir = fs::absolute(start, ec);
    if (ec)
        return std::nullopt;
    dir = dir.lexically_normal();
    // "/a/b/" normalises to "/a/b/", whose parent is "/a/b": drop the empty last element.
    if (!dir.has_filename() && dir.has_relative_path())
        dir = dir.parent_path();
    while (true) {
        const fs::path candidate = dir / ".env";
        if (fs::is_regular_file(candidate, ec))
            return candidate;
        const fs::path parent = dir.parent_path();
        if (parent.empty() || parent == dir)
            return std::nullopt;
        dir = parent;
    }
}

Result<std::vector<DotenvEntry>> read_dotenv_file(const fs::path& path) {
    constexpr std::uintmax_t max_size = 1024 * 1024;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} does not exist", path));
    }
    if (!fs::is_regular_file(status)) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} is not a regular file", path));
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} cannot be read: {}", path, ec.message()));
    }
    if (size > max_size) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} is larger than 1 MiB", path));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} cannot be opened for reading", path));
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format(".env file {} cannot be read", path));
    }
    auto entries = parse_dotenv(text);
    if (!entries.ok()) {
        Error error = std::move(entries).error();
        error.message = fmt::format(".env file {}: {}", path, error.message);
        return error;
    }
    return entries;
}

}  // namespace eci::detail
