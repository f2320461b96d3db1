// save_weights / load_weights for any xfuse model, in Keras' files (io/keras_layout.hpp).
//
//   xf::io::save_weights("w.h5", model);              // tf.keras 2.x layout, atomically
//   xf::io::load_weights("w.h5", model);              // layers with weights matched by order
//   xf::io::load_weights("w.h5", model, xf::by_name); // ... or by layer name
//   xf::io::load_weights("w.weights.h5", model);      // Keras 3 files: by class path
//
// Loading reads the whole file, checks every layer, weight count, shape and dtype against the
// model, and only then sets the weights (Model::set_weights, all or nothing): a bad file leaves
// the model as it was and raises weight_file_error naming the file, the layer and what was
// expected.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "../core/errors.hpp"
#include "../core/static_string.hpp"
#include "../layers/layer.hpp"
#include "hdf5_atomic.hpp"
#include "hdf5_file.hpp"
#include "keras_layout.hpp"

namespace xfuse {

// load_weights option: match layers by name (Keras' by_name=True) instead of by order.
struct by_name_t {
    explicit constexpr by_name_t() = default;
};
inline constexpr by_name_t by_name{};

}  // namespace xfuse

namespace xfuse::io {

namespace detail {

// A layer as Keras' model.layers lists it (a Sequential hides its InputLayer).
struct model_layer {
    std::string name;
    std::string class_name;
    std::vector<weight_spec> weights;
    // Keras 3 paths of sublayers whose attribute differs from the sublayer's name (a weight
    // "query/kernel" of MultiHeadAttention lies under query_dense/): (name, attribute).
    std::vector<std::pair<std::string, std::string>> keras3_sublayers;
};

// A layer's declared keras3_sublayers, if any.
template <class L>
std::vector<std::pair<std::string, std::string>> keras3_sublayers_of() {
    if constexpr (requires { L::keras3_sublayers; })
        return {L::keras3_sublayers.begin(), L::keras3_sublayers.end()};
    else
        return {};
}

template <class Model>
std::vector<model_layer> model_layers(const Model& model) {
    using graph = typename Model::graph_type;
    std::vector<model_layer> layers;
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (layers.push_back({std::string(graph::names[L].view()),
                           std::string(graph::template layer_t<L>::class_name),
                           {graph::template weights<L>.begin(), graph::template weights<L>.end()},
                           keras3_sublayers_of<typename graph::template layer_t<L>>()}),
         ...);
    }
    (std::make_index_sequence<graph::layer_count>{});
    const std::vector<std::string> listed = model.layer_names();
    std::erase_if(layers, [&](const model_layer& layer) {
        return std::find(listed.begin(), listed.end(), layer.name) == listed.end();
    });
    return layers;
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    return xfuse::detail::tuple_string(shape, shape.size());
}
inline std::vector<std::size_t> dims_of(const weight_spec& w) {
    return {w.dims.begin(), w.dims.begin() + long(w.rank)};
}
inline std::string describe(const std::vector<weight_spec>& weights) {
    std::string text;
    for (const weight_spec& w : weights)
        text += (text.empty() ? "" : ", ") + std::string(w.name) + " " + shape_text(dims_of(w));
    return "[" + text + "]";
}
inline std::string describe(const std::vector<stored_weight>& weights) {
    std::string text;
    for (const stored_weight& w : weights)
        text += (text.empty() ? "" : ", ") + w.name + " " + shape_text(w.shape);
    return "[" + text + "]";
}
template <class Layers>
std::string list_names(const Layers& layers) {
    std::string text;
    for (const auto& layer : layers)
        text += (text.empty() ? "" : ", ") + layer.name;
    return "(" + text + ")";
}

// The model's layers as a tf.keras 2.x file stores them: weights named "<layer>/<weight>:0".
template <class Model>
std::vector<stored_layer> keras2_layers_of(const Model& model) {
    const std::vector<xt::xarray<float>> values = model.get_weights();
    std::vector<stored_layer> layers;
    std::size_t next = 0;
    for (model_layer& layer : model_layers(model)) {
        stored_layer stored{std::move(layer.name), {}};
        for (const weight_spec& w : layer.weights) {
            const xt::xarray<float>& value = values[next++];
            stored.weights.push_back({stored.name + "/" + std::string(w.name) + ":0", dims_of(w),
                                      std::vector<float>(value.begin(), value.end())});
        }
        layers.push_back(std::move(stored));
    }
    return layers;
}

// Checks one model layer against the file's layer and appends its weights to `values`.
inline void take_layer(const std::filesystem::path& file, const model_layer& layer,
                       const stored_layer& stored, std::vector<xt::xarray<float>>& values) {
    const std::string which = "layer '" + layer.name + "' (file: '" + stored.name + "')";
    if (stored.weights.size() != layer.weights.size())
        throw_file_error(file, which + ": expected " + std::to_string(layer.weights.size()) +
                                   " weights " + describe(layer.weights) + ", the file has " +
                                   std::to_string(stored.weights.size()) + " " +
                                   describe(stored.weights));
    for (std::size_t i = 0; i < layer.weights.size(); ++i) {
        const std::vector<std::size_t> expected = dims_of(layer.weights[i]);
        const stored_weight& w = stored.weights[i];
        if (w.shape != expected)
            throw_file_error(file, which + ": weight '" + std::string(layer.weights[i].name) +
                                       "': expected shape " + shape_text(expected) +
                                       " float32, the file's '" + w.name + "' is " +
                                       shape_text(w.shape));
        xt::xarray<float> value(expected);
        std::copy(w.values.begin(), w.values.end(), value.begin());
        values.push_back(std::move(value));
    }
}

// The model's weights (set_weights order) from a tf.keras 2.x file: layers with weights matched
// one to one in order (Keras' load_weights_from_hdf5_group), or by name.
inline std::vector<xt::xarray<float>> match_keras2(const std::filesystem::path& file,
                                                   const std::vector<model_layer>& model,
                                                   const std::vector<stored_layer>& stored,
                                                   bool by_name) {
    std::vector<model_layer> wanted;
    std::copy_if(model.begin(), model.end(), std::back_inserter(wanted),
                 [](const model_layer& l) { return !l.weights.empty(); });
    std::vector<const stored_layer*> chosen;
    if (by_name) {
        for (const model_layer& layer : wanted) {
            const auto found =
                std::find_if(stored.begin(), stored.end(),
                             [&](const stored_layer& s) { return s.name == layer.name; });
            if (found == stored.end())
                throw_file_error(file, "layer '" + layer.name + "' " + describe(layer.weights) +
                                           " is not in the file, whose layers are " +
                                           list_names(stored));
            chosen.push_back(&*found);
        }
    } else {
        std::vector<stored_layer> with_weights;
        for (const stored_layer& s : stored)
            if (!s.weights.empty())
                chosen.push_back(&s), with_weights.push_back({s.name, {}});
        if (chosen.size() != wanted.size())
            throw_file_error(file, "the model has " + std::to_string(wanted.size()) +
                                       " layers with weights " + list_names(wanted) +
                                       ", the file has " + std::to_string(chosen.size()) + " " +
                                       list_names(with_weights) +
                                       "; loading by order pairs them one to one (xf::by_name "
                                       "pairs equal names)");
    }
    std::vector<xt::xarray<float>> values;
    for (std::size_t k = 0; k < wanted.size(); ++k)
        take_layer(file, wanted[k], *chosen[k], values);
    return values;
}

// A layer's variables in a Keras 3 file at `path`: its own vars, or, for weights named
// "<sublayer>/<weight>" (sublayers' weights), each sublayer's vars at <path>/<attribute>, the
// sublayers in the order of the layer's weights.
inline stored_layer read_keras3_weights(const hdf5_file& file, const std::string& path,
                                        const model_layer& layer) {
    stored_layer stored{path, {}};
    std::string current;
    for (const weight_spec& w : layer.weights) {
        const std::string name(w.name);
        const std::size_t slash = name.find('/');
        if (slash == std::string::npos)
            return read_keras3_layer(file, path);
        const std::string sublayer = name.substr(0, slash);
        if (sublayer == current)
            continue;
        current = sublayer;
        std::string attribute = sublayer;
        for (const auto& [from, to] : layer.keras3_sublayers)
            if (from == sublayer)
                attribute = to;
        const std::string sub_path = path + "/" + attribute;
        if (!file.is_group("/" + sub_path + "/vars"))
            throw_file_error(file.path(), "layer '" + layer.name + "': no sublayer group '/" +
                                              sub_path + "/vars' for its " + sublayer + " weights");
        for (stored_weight& v : read_keras3_layer(file, sub_path).weights) {
            v.name = attribute + "/vars/" + v.name;
            stored.weights.push_back(std::move(v));
        }
    }
    return stored;
}

// The model's weights from a Keras 3 file: each layer of model.layers is saved under
// layers/<snake_case(class name)>, numbered _1, _2, ... among layers of the same class.
inline std::vector<xt::xarray<float>> match_keras3(const hdf5_file& file,
                                                   const std::vector<model_layer>& model) {
    std::vector<std::pair<std::string, std::size_t>> used;
    std::vector<xt::xarray<float>> values;
    for (const model_layer& layer : model) {
        std::string path = "layers/" + std::string(to_snake_case(layer.class_name).view());
        auto seen =
            std::find_if(used.begin(), used.end(), [&](auto& u) { return u.first == path; });
        if (seen == used.end())
            used.emplace_back(path, 0);
        else
            path += "_" + std::to_string(++seen->second);
        if (!layer.weights.empty())
            take_layer(file.path(), layer, read_keras3_weights(file, path, layer), values);
    }
    return values;
}

// Reads and checks every weight of `model` from an open file, changing nothing.
template <class Model>
std::vector<xt::xarray<float>> read_model_weights(const hdf5_file& file, const Model& model,
                                                  bool by_name) {
    const std::vector<model_layer> layers = model_layers(model);
    const std::string root = keras2_weights_root(file);
    if (!root.empty())
        return match_keras2(file.path(), layers, read_keras2_layers(file, root), by_name);
    if (!is_keras3_file(file))
        throw_file_error(file.path(),
                         "not a Keras weights file: no layer_names attribute at / or "
                         "/model_weights (tf.keras 2.x) and no /layers group (Keras 3)");
    if (by_name)
        throw_file_error(file.path(),
                         "xf::by_name needs a tf.keras 2.x file; Keras 3 files name layers by "
                         "class and are matched by position, as Keras 3 does");
    return match_keras3(file, layers);
}

[[noreturn]] inline void rethrow_as_file_error(const char* operation,
                                               const std::filesystem::path& path,
                                               const std::string& message) {
    const std::string prefix = "xfuse: ";
    throw weight_file_error(
        prefix + operation + ": " +
            (message.starts_with(prefix) ? message.substr(prefix.size()) : message),
        path);
}

// Opens `path` for reading and runs `read(file)`; any failure becomes a weight_file_error that
// starts with the operation ("xfuse: load_weights: '<file>': ...").
template <class Read>
auto read_weight_file(const char* operation, const std::filesystem::path& path, Read&& read) {
    try {
        const hdf5_session session;
        if (!std::filesystem::is_regular_file(path))
            throw_file_error(path,
                             std::filesystem::exists(path) ? "not a regular file" : "no such file");
        const hdf5_file file = hdf5_file::open_read_only(path);
        return std::forward<Read>(read)(file);
    } catch (const weight_file_error& error) {
        rethrow_as_file_error(operation, path, error.what());
    } catch (const hdf5_error& error) {
        rethrow_as_file_error(operation, path, error.what());
    }
}

template <class... Options>
constexpr bool by_name_requested() {
    static_assert((std::is_same_v<Options, by_name_t> && ...),
                  "xfuse::load_weights: the only option is xf::by_name");
    return sizeof...(Options) > 0;
}

}  // namespace detail

// Writes the model's weights in tf.keras 2.x's HDF5 layout (Keras' model.load_weights reads
// it), through a temporary file renamed over `path`.
template <class Model>
void save_weights(const std::filesystem::path& path, const Model& model) {
    const std::vector<stored_layer> layers = detail::keras2_layers_of(model);
    atomic_save(path, [&](hdf5_file& file) { write_keras2_layers(file, "/", layers); });
}

// Reads weights saved by save_weights or by Keras (tf.keras 2.x .h5, full-model .h5, Keras 3
// .weights.h5); checks everything before the model changes.
template <class Model, class... Options>
void load_weights(const std::filesystem::path& path, Model& model, Options...) {
    constexpr bool by_name = detail::by_name_requested<Options...>();
    model.set_weights(detail::read_weight_file("load_weights", path, [&](const hdf5_file& file) {
        return detail::read_model_weights(file, model, by_name);
    }));
}

}  // namespace xfuse::io
