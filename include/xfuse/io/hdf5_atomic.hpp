// Saving without ever losing the previous file: write a temporary file next to the target, make
// it durable, and rename it over the target. rename() within one directory is atomic on POSIX,
// so a reader (or a crash) sees the old file or the new one, never half of either; a failure
// at any point removes the temporary file and leaves the target as it was.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "hdf5_file.hpp"

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

[[noreturn]] inline void throw_file_system_error(const std::filesystem::path& path,
                                                 const std::string& what) {
    const int error = errno;
    throw hdf5_error("xfuse: '" + path.string() + "': " + what + ": " + std::strerror(error), path,
                     "/");
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

// Calls write(file) on a new HDF5 file, then replaces `target` with it (see the top of the
// file). Whatever write throws propagates after the cleanup.
template <class Write>
void atomic_save(const std::filesystem::path& target, Write&& write) {
    const detail::hdf5_session session;
    const std::filesystem::path temporary = detail::temporary_sibling(target);
    try {
        {
            hdf5_file file = hdf5_file::create(temporary);
            std::forward<Write>(write)(file);
            file.close();
        }
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

}  // namespace xfuse::io
