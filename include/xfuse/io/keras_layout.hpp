// Keras' weight-file layouts, independent of any model:
//  - tf.keras 2.x HDF5 (keras/saving/legacy/hdf5_format.py): root (or /model_weights in a
//    full-model file) with attributes layer_names, backend, keras_version; a group per layer
//    with attribute weight_names; each weight a dataset at <layer>/<weight name>, e.g.
//    /dense/dense/kernel:0, kernel (in, out).
//  - Keras 3 .weights.h5 (keras/src/saving/saving_lib.py):
//    layers/<snake_case(class)>[_k]/vars/0, 1, ...
// A file is read whole into stored_layers (float32 only: weights must round-trip bit for bit,
// so a float64 file is an error naming its dtype, not a silent conversion); matching them to a
// model is io/keras_weights.hpp's job.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "hdf5_file.hpp"

namespace xfuse::io {

// A weight file that cannot be loaded into the model: missing, not HDF5, truncated, or holding
// other layers, weights, shapes or dtypes than the model has. The model is left unchanged.
class weight_file_error : public std::invalid_argument {
  public:
    weight_file_error(const std::string& message, std::filesystem::path file)
        : std::invalid_argument(message), file_(std::move(file)) {}
    const std::filesystem::path& file() const noexcept { return file_; }

  private:
    std::filesystem::path file_;
};

struct stored_weight {
    std::string name;  // as the file names it: "dense/kernel:0" (Keras 2), "0" (Keras 3)
    std::vector<std::size_t> shape;
    std::vector<float> values;  // row-major
};

struct stored_layer {
    std::string name;  // Keras 2: the layer name; Keras 3: the path, "layers/dense_2"
    std::vector<stored_weight> weights;
};

// What the tf.keras 2.x writer puts in the root attributes.
inline constexpr const char* keras_backend = "tensorflow";
inline constexpr const char* keras_layout_version = "2.15.0";

namespace detail {

// hdf5_format.py HDF5_OBJECT_HEADER_LIMIT: longer attribute lists are split in chunks.
inline constexpr std::size_t hdf5_object_header_limit = 64512;

// save_attributes_to_hdf5_group's split: numpy stores the list as fixed-width strings of the
// longest name, and np.array_split(data, k) gives the first n % k chunks one extra entry; k
// grows until every chunk fits. One chunk means the attribute keeps its plain name.
inline std::vector<std::vector<std::string>> attribute_chunks(
    const std::vector<std::string>& values) {
    std::size_t width = 1;
    for (const std::string& v : values)
        width = std::max(width, v.size());
    const std::size_t n = values.size();
    std::size_t chunks = 1;
    while (n > 0 && ((n + chunks - 1) / chunks) * width > hdf5_object_header_limit)
        ++chunks;
    std::vector<std::vector<std::string>> result(chunks);
    for (std::size_t c = 0, next = 0; c < chunks; ++c) {
        const std::size_t size = n / chunks + (c < n % chunks ? 1 : 0);
        result[c].assign(values.begin() + long(next), values.begin() + long(next + size));
        next += size;
    }
    return result;
}

inline void write_list_attribute(hdf5_file& file, const std::string& object, const char* name,
                                 const std::vector<std::string>& values) {
    if (values.empty())
        return file.write_empty_list(object, name);
    const auto chunks = attribute_chunks(values);
    if (chunks.size() == 1)
        return file.write_strings(object, name, values);
    for (std::size_t c = 0; c < chunks.size(); ++c)
        file.write_strings(object, (name + std::to_string(c)).c_str(), chunks[c]);
}

// load_attributes_from_hdf5_group: the plain attribute, or name0, name1, ... concatenated.
inline std::vector<std::string> read_list_attribute(const hdf5_file& file,
                                                    const std::string& object,
                                                    const std::string& name) {
    if (file.has_attribute(object, name.c_str()))
        return file.read_strings(object, name.c_str());
    std::vector<std::string> values;
    for (std::size_t c = 0; file.has_attribute(object, (name + std::to_string(c)).c_str()); ++c)
        for (std::string& v : file.read_strings(object, (name + std::to_string(c)).c_str()))
            values.push_back(std::move(v));
    return values;
}

inline std::string join_path(const std::string& group, const std::string& name) {
    return group == "/" ? "/" + name : group + "/" + name;
}

[[noreturn]] inline void throw_file_error(const std::filesystem::path& file,
                                          const std::string& what) {
    throw weight_file_error("xfuse: '" + file.string() + "': " + what, file);
}

// One float32 dataset of the file; `what` says whose weight it is, for the messages.
inline stored_weight read_float32_weight(const hdf5_file& file, const std::string& object,
                                         std::string name, const std::string& what) {
    if (!file.is_dataset(object))
        throw_file_error(file.path(), what + ": no dataset '" + object + "' in the file");
    dataset_info info = file.dataset(object);
    if (!info.is_float32())
        throw_file_error(file.path(),
                         what + ": dataset '" + object + "' " +
                             xfuse::detail::tuple_string(info.shape, info.shape.size()) + " is " +
                             info.dtype +
                             ", expected float32 (xfuse does not "
                             "convert weights)");
    return {std::move(name), std::move(info.shape), file.read_floats(object)};
}

}  // namespace detail

// ---- tf.keras 2.x ----------------------------------------------------------------------------

// The group holding the layers: the root of a weights file, /model_weights of a full-model file
// (as Keras' load_weights decides); empty when the file has neither.
inline std::string keras2_weights_root(const hdf5_file& file) {
    if (file.has_attribute("/", "layer_names"))
        return "/";
    if (file.is_group("/model_weights") && file.has_attribute("/model_weights", "layer_names"))
        return "/model_weights";
    return {};
}

// Every layer the file lists, in its order, with its weights in weight_names order.
inline std::vector<stored_layer> read_keras2_layers(const hdf5_file& file,
                                                    const std::string& root) {
    std::vector<stored_layer> layers;
    for (std::string& name : detail::read_list_attribute(file, root, "layer_names")) {
        const std::string group = detail::join_path(root, name);
        if (!file.is_group(group))
            detail::throw_file_error(file.path(), "layer '" + name +
                                                      "' is listed in layer_names but the "
                                                      "file has no group '" +
                                                      group + "'");
        stored_layer layer{std::move(name), {}};
        for (std::string& weight : detail::read_list_attribute(file, group, "weight_names")) {
            const std::string object = detail::join_path(group, weight);
            layer.weights.push_back(detail::read_float32_weight(file, object, std::move(weight),
                                                                "layer '" + layer.name + "'"));
        }
        layers.push_back(std::move(layer));
    }
    return layers;
}

// Writes `layers` the way tf.keras 2.x's save_weights_to_hdf5_group does: root attributes,
// groups created in name order, each weight a float32 dataset under its name (weights named
// "<layer>/kernel:0" nest one group deeper, as in Keras), and an empty top_level_model_weights.
inline void write_keras2_layers(hdf5_file& file, const std::string& root,
                                const std::vector<stored_layer>& layers) {
    if (root != "/")
        file.create_group(root);
    std::vector<std::string> names;
    for (const stored_layer& layer : layers)
        names.push_back(layer.name);
    detail::write_list_attribute(file, root, "layer_names", names);
    file.write_strings(root, "backend", {keras_backend}, true);
    file.write_strings(root, "keras_version", {keras_layout_version}, true);
    std::vector<const stored_layer*> sorted;
    for (const stored_layer& layer : layers)
        sorted.push_back(&layer);
    std::sort(sorted.begin(), sorted.end(),
              [](const stored_layer* a, const stored_layer* b) { return a->name < b->name; });
    for (const stored_layer* layer : sorted) {
        const std::string group = detail::join_path(root, layer->name);
        file.create_group(group);
        std::vector<std::string> weight_names;
        for (const stored_weight& w : layer->weights)
            weight_names.push_back(w.name);
        detail::write_list_attribute(file, group, "weight_names", weight_names);
        for (const stored_weight& w : layer->weights)
            file.write_floats(detail::join_path(group, w.name), w.shape, w.values.data());
    }
    const std::string top_level = detail::join_path(root, "top_level_model_weights");
    file.create_group(top_level);
    detail::write_list_attribute(file, top_level, "weight_names", {});
}

// ---- Keras 3 ---------------------------------------------------------------------------------

// A Keras 3 weights file: a `layers` group and no tf.keras layer list.
inline bool is_keras3_file(const hdf5_file& file) {
    return keras2_weights_root(file).empty() && file.is_group("/layers");
}

// The variables Keras 3 saved for the layer at `path` ("layers/dense_1"): <path>/vars/0, 1, ...
// in order. A layer without a vars group saved no variables.
inline stored_layer read_keras3_layer(const hdf5_file& file, const std::string& path) {
    stored_layer layer{path, {}};
    const std::string vars = "/" + path + "/vars";
    if (!file.is_group(vars))
        return layer;
    const std::vector<std::string> members = file.members(vars);
    for (std::size_t i = 0; i < members.size(); ++i) {
        const std::string name = std::to_string(i);
        if (std::find(members.begin(), members.end(), name) == members.end())
            detail::throw_file_error(file.path(), "'" + vars + "' holds " +
                                                      std::to_string(members.size()) +
                                                      " entries but no '" + name + "'");
        layer.weights.push_back(
            detail::read_float32_weight(file, vars + "/" + name, name, "layer at '" + path + "'"));
    }
    return layer;
}

}  // namespace xfuse::io
