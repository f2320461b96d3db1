// Replacing a file without ever losing the previous one: write a temporary file next to the
// target, make it durable, and rename it over the target. rename() within one directory is
// atomic on POSIX, so a reader (or a crash) sees the old file or the new one, never half of
// either; a failure at any point removes the temporary file and leaves the target as it was.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace xfuse::io {

namespace detail {

// "<target>.tmp-<16 hex digits>": same directory (so rename stays atomic), and a name no other
// save picks at the same time.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
    static constexpr char digits[] = "0123456789abcdef";
    std::random_device device;
    std::mt19937_64 engine((std::uint64_t(device()) << 32) ^ device());
    std::string suffix = ".tmp-";
    for (std::uint64_t bits = engine(), i = 0; i < 16; ++i, bits >>= 4)
        suffix += digits[bits & 15];
    std::filesystem::path temporary = target;
    temporary += suffix;
    return temporary;
}

// A std::system_error for the current errno, naming the path and what failed.
[[noreturn]] inline void throw_file_system_error(const std::filesystem::path& path,
                                                 const std::string& what) {
    throw std::system_error(errno, std::generic_category(),
                            "xfuse: '" + path.string() + "': " + what);
}

// fsync a file or a directory, so what it holds (or its entries) survives a power cut.
inline void sync_path(const std::filesystem::path& path, bool directory) {
    const int fd = ::open(path.c_str(), O_RDONLY | (directory ? O_DIRECTORY : 0));
    if (fd < 0)
        throw_file_system_error(path, "cannot open to sync");
    const bool synced = ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    errno = error;
    if (!synced)
        throw_file_system_error(path, "cannot sync");
}

}  // namespace detail

// Calls write(temporary) to make the new file at the path it is given, then replaces `target`
// with it (see the top of the file). Whatever write throws propagates after the cleanup; file
// system failures are std::system_error.
template <class Write>
void replace_file(const std::filesystem::path& target, Write&& write) {
    const std::filesystem::path temporary = detail::temporary_sibling(target);
    try {
        std::forward<Write>(write)(temporary);
        detail::sync_path(temporary, false);
        std::error_code error;
        std::filesystem::rename(temporary, target, error);
        if (error) {
            errno = error.value();
            detail::throw_file_system_error(target, "cannot replace with " + temporary.string());
        }
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
    // The rename is done; making the directory entry durable cannot undo it.
    const std::filesystem::path directory =
        target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    detail::sync_path(directory, true);
}

// `target` holds exactly `bytes` afterwards, or is unchanged.
inline void write_file_atomically(const std::filesystem::path& target, std::string_view bytes) {
    replace_file(target, [&](const std::filesystem::path& temporary) {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out)
            detail::throw_file_system_error(temporary, "cannot create");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out)
            detail::throw_file_system_error(temporary, "cannot write");
    });
}

}  // namespace xfuse::io
