// HDF5 files saved through io/atomic_file.hpp's replace_file: a reader or a crash sees the old
// file or the new one, never half of either.
#pragma once

#include <filesystem>
#include <system_error>
#include <utility>

#include "atomic_file.hpp"
#include "hdf5_file.hpp"

namespace xfuse::io {

// Calls write(file) on a new HDF5 file, then replaces `target` with it. Whatever write throws
// propagates after the cleanup; a file system failure is an hdf5_error naming the file.
template <class Write>
void atomic_save(const std::filesystem::path& target, Write&& write) {
    const detail::hdf5_session session;
    try {
        replace_file(target, [&](const std::filesystem::path& temporary) {
            hdf5_file file = hdf5_file::create(temporary);
            std::forward<Write>(write)(file);
            file.close();
        });
    } catch (const std::system_error& error) {
        throw hdf5_error(error.what(), target, "/");
    }
}

}  // namespace xfuse::io
