// The pieces under io/hdf5_file.hpp: HDF5 identifiers that close themselves, the exception
// that names file and object, HDF5's error stack read into text (and kept off stderr), the lock
// around Debian's non-thread-safe HDF5, and the test hook that fails a write on purpose.
#pragma once

// Every HDF5 header of xfuse reaches the C library through this one, so that a program built
// without the CMake target stops here with a message that says what to link.
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#error "xfuse: <xfuse/hdf5.hpp> and io/ need the HDF5 C library: link the CMake target xfuse::hdf5"
#endif

#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xfuse::io {

// The HDF5 library or the file system failed (a read, a write, a missing object). Weight-file
// content that does not fit the model is a weight_file_error (io/keras_layout.hpp) instead.
class hdf5_error : public std::runtime_error {
  public:
    hdf5_error(const std::string& message, std::filesystem::path file, std::string object)
        : std::runtime_error(message), file_(std::move(file)), object_(std::move(object)) {}
    const std::filesystem::path& file() const noexcept { return file_; }
    const std::string& object() const noexcept { return object_; }

  private:
    std::filesystem::path file_;
    std::string object_;
};

namespace detail {

// Called before each dataset write with the file and the dataset's path. Empty in programs; a
// test sets it to throw, which fails a save midway (see io/hdf5_atomic.hpp).
using write_hook = std::function<void(const std::filesystem::path&, std::string_view)>;
inline write_hook& before_dataset_write() {
    static write_hook hook;
    return hook;
}

// Debian's HDF5 is built without thread safety: one xfuse file operation at a time.
inline std::recursive_mutex& hdf5_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

// For the scope of one file operation: holds the lock and keeps HDF5 from printing its error
// stack (the exception carries it), then restores the caller's HDF5 error handler.
class hdf5_session {
  public:
    hdf5_session() : lock_(hdf5_mutex()) {
        H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~hdf5_session() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }
    hdf5_session(const hdf5_session&) = delete;
    hdf5_session& operator=(const hdf5_session&) = delete;

  private:
    std::lock_guard<std::recursive_mutex> lock_;
    H5E_auto2_t handler_ = nullptr;
    void* data_ = nullptr;
};

// What HDF5 said about the last failure, innermost (most specific) message last.
inline std::string hdf5_error_text() {
    std::vector<std::string> messages;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_DOWNWARD,
        [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
            if (error->desc && *error->desc)
                static_cast<std::vector<std::string>*>(data)->emplace_back(error->desc);
            return 0;
        },
        &messages);
    std::string text;
    for (std::size_t i = messages.size() > 2 ? messages.size() - 2 : 0; i < messages.size(); ++i)
        text += (text.empty() ? "" : "; ") + messages[i];
    return text.empty() ? "no details" : text;
}

// An HDF5 identifier that closes itself.
class handle {
  public:
    using closer = herr_t (*)(hid_t);
    handle() = default;
    handle(hid_t id, closer close) noexcept : id_(id), close_(close) {}
    handle(handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
    handle& operator=(handle&& other) noexcept {
        std::swap(id_, other.id_);
        std::swap(close_, other.close_);
        return *this;
    }
    ~handle() {
        if (id_ >= 0)
            close_(id_);
    }
    hid_t get() const noexcept { return id_; }
    // Closes now and reports failure (a file's last buffers are written on close).
    herr_t close() noexcept { return id_ < 0 ? 0 : close_(std::exchange(id_, -1)); }

  private:
    hid_t id_ = -1;
    closer close_ = nullptr;
};

}  // namespace detail

}  // namespace xfuse::io
