// A small RAII layer over the HDF5 C library, just wide enough for Keras weight files
// (io/keras_*.hpp): groups, string-list attributes, float32 and int64 datasets. Every handle
// closes itself; HDF5's error stack is kept off stderr and turned into an exception that names
// the file, the object and what HDF5 said. The rest of xfuse never includes this header, so only
// programs that read or write weight files need HDF5 (CMake target xfuse::hdf5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hdf5_handle.hpp"

namespace xfuse::io {

// What a dataset holds: its shape and, in numpy's words, its element type.
struct dataset_info {
    std::vector<std::size_t> shape;
    std::string dtype;  // "float32", "float64", "int64", "string", ...
    bool is_float32() const { return dtype == "float32"; }
    bool is_integer() const { return dtype.starts_with("int") || dtype.starts_with("uint"); }
};

// numpy's name for an HDF5 element type, for messages and dtype checks.
inline std::string dtype_name(hid_t type) {
    const std::size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
        case H5T_FLOAT:
            return "float" + std::to_string(bits);
        case H5T_INTEGER:
            return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
        case H5T_STRING:
            return "string";
        default:
            return "an HDF5 type of class " + std::to_string(int(H5Tget_class(type)));
    }
}

// One HDF5 file, opened for reading or created for writing. Objects are named by their path
// from the root ("dense/dense/kernel:0"); every failure throws hdf5_error naming file and path.
class hdf5_file {
  public:
    static hdf5_file create(const std::filesystem::path& path) {
        hdf5_file file(path);
        file.file_ = file.check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT),
                                H5Fclose, "/", "cannot create the file");
        return file;
    }
    static hdf5_file open_read_only(const std::filesystem::path& path) {
        hdf5_file file(path);
        file.file_ = file.check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "/",
                                "not a readable HDF5 file");
        return file;
    }

    const std::filesystem::path& path() const noexcept { return path_; }

    // Writes every buffer and closes the file; errors surface here, not in a destructor.
    void close() {
        if (file_.get() >= 0 && H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0)
            fail("/", "cannot flush the file");
        if (file_.close() < 0)
            fail("/", "cannot close the file");
    }

    // True when every link along `object` exists (HDF5 asks one level at a time).
    bool exists(std::string_view object) const {
        for (std::size_t end = 0; end != std::string_view::npos;) {
            end = object.find('/', end + 1);
            const std::string prefix(object.substr(0, end));
            if (prefix.empty() || prefix == "/")
                continue;
            const htri_t found = H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT);
            if (found < 0)
                fail(prefix, "cannot look up");
            if (found == 0)
                return false;
        }
        return true;
    }
    bool is_group(std::string_view object) const { return kind(object) == H5I_GROUP; }
    bool is_dataset(std::string_view object) const { return kind(object) == H5I_DATASET; }

    void create_group(const std::string& object) {
        check(H5Gcreate2(file_.get(), object.c_str(), link_properties().get(), H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Gclose, object, "cannot create the group");
    }

    // The names of a group's members, sorted by name.
    std::vector<std::string> members(const std::string& group) const {
        const detail::handle g = check(H5Gopen2(file_.get(), group.c_str(), H5P_DEFAULT), H5Gclose,
                                       group, "cannot open the group");
        H5G_info_t info;
        if (H5Gget_info(g.get(), &info) < 0)
            fail(group, "cannot list the group");
        std::vector<std::string> names;
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            const ssize_t size = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                                    nullptr, 0, H5P_DEFAULT);
            if (size < 0)
                fail(group, "cannot list the group");
            std::string name(std::size_t(size), '\0');
            H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                               name.size() + 1, H5P_DEFAULT);
            names.push_back(std::move(name));
        }
        return names;
    }

    bool has_attribute(const std::string& object, const char* name) const {
        const htri_t found = H5Aexists_by_name(file_.get(), object.c_str(), name, H5P_DEFAULT);
        if (found < 0)
            fail(object, std::string("cannot look up attribute '") + name + "'");
        return found > 0;
    }

    // A string attribute, scalar or list, fixed-length (h5py 2) or variable-length (h5py 3).
    // An empty attribute of any type reads as no strings: Keras stores [] as an empty float64
    // array for weightless layers.
    std::vector<std::string> read_strings(const std::string& object, const char* name) const;

    // A list of strings (or, `scalar`, one string) the way h5py 3 stores bytes: variable-length,
    // ASCII-tagged.
    void write_strings(const std::string& object, const char* name,
                       const std::vector<std::string>& values, bool scalar = false);
    // h5py's `attrs[name] = []`: an empty float64 list.
    void write_empty_list(const std::string& object, const char* name) {
        const hsize_t zero = 0;
        const detail::handle space(H5Screate_simple(1, &zero, nullptr), H5Sclose);
        const detail::handle object_id = open_object(object);
        check(H5Acreate2(object_id.get(), name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Aclose, object, std::string("cannot create attribute '") + name + "'");
    }

    dataset_info dataset(const std::string& object) const {
        const detail::handle d = open_dataset(object);
        const detail::handle type(H5Dget_type(d.get()), H5Tclose);
        return {shape_of(H5Dget_space(d.get()), object), dtype_name(type.get())};
    }
    // A float32 dataset's values, row-major; other element types are the caller's error to
    // report (check dataset() first), HDF5 would convert them silently.
    std::vector<float> read_floats(const std::string& object) const {
        return read_values<float>(object, H5T_NATIVE_FLOAT);
    }
    std::int64_t read_int64(const std::string& object) const {
        const std::vector<std::int64_t> values =
            read_values<std::int64_t>(object, H5T_NATIVE_INT64);
        if (values.size() != 1)
            fail(object, "expected one value, found " + std::to_string(values.size()));
        return values[0];
    }

    // A float32 (IEEE little-endian, as numpy writes it) dataset of `shape` from `values`.
    void write_floats(const std::string& object, const std::vector<std::size_t>& shape,
                      const float* values) {
        write_values(object, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, values);
    }
    // A scalar int64 dataset (Keras' optimizer iteration count).
    void write_int64(const std::string& object, std::int64_t value) {
        write_values(object, {}, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
    }

  private:
    explicit hdf5_file(std::filesystem::path path) : path_(std::move(path)) {}

    [[noreturn]] void fail(std::string_view object, const std::string& what) const {
        throw hdf5_error("xfuse: '" + path_.string() + "': " + std::string(object) + ": " + what +
                             " (HDF5: " + detail::hdf5_error_text() + ")",
                         path_, std::string(object));
    }
    detail::handle check(hid_t id, detail::handle::closer close, std::string_view object,
                         const std::string& what) const {
        if (id < 0)
            fail(object, what);
        return {id, close};
    }

    // Link creation that makes missing parent groups, as h5py does for "dense/kernel:0".
    static detail::handle link_properties() {
        detail::handle properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
        H5Pset_create_intermediate_group(properties.get(), 1);
        return properties;
    }

    detail::handle open_object(const std::string& object) const {
        return check(H5Oopen(file_.get(), object.c_str(), H5P_DEFAULT), H5Oclose, object,
                     "cannot open");
    }
    detail::handle open_dataset(const std::string& object) const {
        return check(H5Dopen2(file_.get(), object.c_str(), H5P_DEFAULT), H5Dclose, object,
                     "cannot open the dataset");
    }
    H5I_type_t kind(std::string_view object) const {
        if (!exists(object))
            return H5I_BADID;
        return H5Iget_type(open_object(std::string(object)).get());
    }

    // The dimensions of a dataspace (empty for a scalar); takes ownership of `space_id`.
    std::vector<std::size_t> shape_of(hid_t space_id, std::string_view object) const {
        const detail::handle space = check(space_id, H5Sclose, object, "cannot read the shape");
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0)
            fail(object, "cannot read the shape");
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        return {dims.begin(), dims.end()};
    }

    template <class T>
    std::vector<T> read_values(const std::string& object, hid_t memory_type) const {
        const detail::handle d = open_dataset(object);
        std::size_t count = 1;
        for (std::size_t n : shape_of(H5Dget_space(d.get()), object))
            count *= n;
        std::vector<T> values(count);
        if (count &&
            H5Dread(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
            fail(object, "cannot read the dataset");
        return values;
    }

    void write_values(const std::string& object, const std::vector<std::size_t>& shape,
                      hid_t file_type, hid_t memory_type, const void* values) {
        if (const auto& hook = detail::before_dataset_write())
            hook(path_, object);
        const std::vector<hsize_t> dims(shape.begin(), shape.end());
        const detail::handle space(shape.empty()
                                       ? H5Screate(H5S_SCALAR)
                                       : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                                   H5Sclose);
        const detail::handle d =
            check(H5Dcreate2(file_.get(), object.c_str(), file_type, space.get(),
                             link_properties().get(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Dclose, object, "cannot create the dataset");
        if (H5Dwrite(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
            fail(object, "cannot write the dataset");
    }

    std::filesystem::path path_;
    detail::handle file_;
};

inline std::vector<std::string> hdf5_file::read_strings(const std::string& object,
                                                        const char* name) const {
    const std::string where = object + " attribute '" + name + "'";
    const detail::handle attribute =
        check(H5Aopen_by_name(file_.get(), object.c_str(), name, H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, where, "cannot open");
    const detail::handle type(H5Aget_type(attribute.get()), H5Tclose);
    const detail::handle space =
        check(H5Aget_space(attribute.get()), H5Sclose, where, "cannot read the shape");
    const hssize_t count = H5Sget_simple_extent_npoints(space.get());
    if (count <= 0)
        return {};
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail(where, "expected strings, found " + dtype_name(type.get()));
    std::vector<std::string> values;
    if (H5Tis_variable_str(type.get()) > 0) {
        const detail::handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        std::vector<char*> pointers(std::size_t(count), nullptr);
        if (H5Aread(attribute.get(), memory.get(), pointers.data()) < 0)
            fail(where, "cannot read");
        for (const char* p : pointers)
            values.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
    } else {
        const std::size_t size = H5Tget_size(type.get());
        std::vector<char> buffer(size * std::size_t(count));
        if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0)
            fail(where, "cannot read");
        for (std::size_t i = 0; i < std::size_t(count); ++i) {
            const std::string_view padded(buffer.data() + i * size, size);
            values.emplace_back(padded.substr(0, padded.find('\0')));
        }
    }
    return values;
}

inline void hdf5_file::write_strings(const std::string& object, const char* name,
                                     const std::vector<std::string>& values, bool scalar) {
    const std::string where = object + " attribute '" + name + "'";
    const detail::handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_ASCII);
    const hsize_t count = values.size();
    const detail::handle space(
        scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose);
    const detail::handle object_id = open_object(object);
    const detail::handle attribute =
        check(H5Acreate2(object_id.get(), name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, where, "cannot create");
    std::vector<const char*> pointers;
    for (const std::string& value : values)
        pointers.push_back(value.c_str());
    if (H5Awrite(attribute.get(), type.get(), pointers.data()) < 0)
        fail(where, "cannot write");
}

}  // namespace xfuse::io
