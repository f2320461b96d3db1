// Checkpoints: a model's weights plus its optimizer's state in one file, so that training can
// resume exactly where it stopped. The file is a tf.keras 2.x weights file (io/keras_layout.hpp;
// Keras' load_weights reads it too) with the optimizer laid out as in Keras' full-model files:
// group /optimizer_weights, attribute weight_names, one dataset per name:
//
//   /optimizer_weights/Adam/iter:0                int64 scalar   (state.iterations)
//   /optimizer_weights/Adam/dense/kernel/m:0      float32 (10, 32)
//   ...
//
// The state is a plain description (optimizer_state) so that this file knows no optimizer; the
// trainer turns its Adam into one and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "hdf5_atomic.hpp"
#include "hdf5_file.hpp"
#include "keras_layout.hpp"
#include "keras_weights.hpp"

namespace xfuse::io {

// One optimizer variable: "dense/kernel/m" (Keras' slot name without the optimizer prefix and
// ":0") and its float32 values.
struct named_array {
    std::string name;
    xt::xarray<float> value;
};

struct optimizer_state {
    std::string name;                // "Adam": the prefix of every variable name in the file
    std::uint64_t iterations = 0;    // steps taken (Keras' optimizer.iterations)
    std::vector<named_array> slots;  // in the order the optimizer lists them
};

namespace detail {

inline constexpr const char* optimizer_group = "/optimizer_weights";

inline std::string iterations_variable(const std::string& optimizer) {
    return optimizer + "/iter:0";
}

// A slot named "<layer>/<weight>/<what>" belongs to that weight and must have its shape; other
// names are the optimizer's own business.
inline void check_slot_shapes(const std::filesystem::path& file, const optimizer_state& state,
                              const std::vector<model_layer>& layers) {
    for (const named_array& slot : state.slots) {
        const std::size_t first = slot.name.find('/');
        const std::size_t second = slot.name.find('/', first + 1);
        if (first == std::string::npos || second == std::string::npos)
            continue;
        const std::string layer_name = slot.name.substr(0, first);
        const std::string weight_name = slot.name.substr(first + 1, second - first - 1);
        for (const model_layer& layer : layers)
            for (const weight_spec& w : layer.weights)
                if (layer.name == layer_name && w.name == weight_name) {
                    const std::vector<std::size_t> expected = dims_of(w);
                    const std::vector<std::size_t> actual(slot.value.shape().begin(),
                                                          slot.value.shape().end());
                    if (actual != expected)
                        throw_file_error(file, "optimizer slot '" + slot.name + "' of layer '" +
                                                   layer_name + "': expected shape " +
                                                   shape_text(expected) + " (the weight's), got " +
                                                   shape_text(actual));
                }
    }
}

inline void check_state(const std::filesystem::path& file, const optimizer_state& state) {
    if (state.name.empty() || state.name.find('/') != std::string::npos)
        throw_file_error(
            file, "optimizer name '" + state.name + "': expected a non-empty name without '/'");
    if (state.iterations > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        throw_file_error(file, "optimizer iterations " + std::to_string(state.iterations) +
                                   " do not fit Keras' int64");
    for (std::size_t i = 0; i < state.slots.size(); ++i) {
        if (state.slots[i].name.empty())
            throw_file_error(file, "optimizer slot " + std::to_string(i) + " has no name");
        for (std::size_t j = 0; j < i; ++j)
            if (state.slots[j].name == state.slots[i].name)
                throw_file_error(file,
                                 "optimizer slot '" + state.slots[i].name + "' appears twice");
    }
}

inline void write_optimizer_state(hdf5_file& file, const optimizer_state& state) {
    const std::string group = optimizer_group;
    file.create_group(group);
    std::vector<std::string> names{iterations_variable(state.name)};
    for (const named_array& slot : state.slots)
        names.push_back(state.name + "/" + slot.name + ":0");
    write_list_attribute(file, group, "weight_names", names);
    file.write_int64(join_path(group, names[0]), std::int64_t(state.iterations));
    for (std::size_t i = 0; i < state.slots.size(); ++i) {
        const xt::xarray<float>& value = state.slots[i].value;
        const std::vector<std::size_t> shape(value.shape().begin(), value.shape().end());
        // xarray's default layout is row-major, as HDF5's.
        file.write_floats(join_path(group, names[i + 1]), shape, value.data());
    }
}

// The optimizer section of a checkpoint, or of a Keras full-model file (whose iteration count is
// named "<optimizer>/iter:0" too).
inline optimizer_state read_optimizer_state(const hdf5_file& file) {
    const std::string group = optimizer_group;
    if (!file.is_group(group))
        throw_file_error(file.path(), "no optimizer state (group " + group +
                                          "): a weights file, not a checkpoint");
    const std::vector<std::string> names = read_list_attribute(file, group, "weight_names");
    if (names.empty() || !names[0].ends_with("/iter:0"))
        throw_file_error(file.path(), group +
                                          ": expected weight_names to start with "
                                          "'<optimizer>/iter:0', found " +
                                          (names.empty() ? "none" : "'" + names[0] + "'"));
    optimizer_state state;
    state.name = names[0].substr(0, names[0].find('/'));
    const std::string iterations = join_path(group, names[0]);
    if (!file.is_dataset(iterations))
        throw_file_error(file.path(), "no dataset '" + iterations + "'");
    const dataset_info info = file.dataset(iterations);
    if (!info.is_integer() || !info.shape.empty())
        throw_file_error(file.path(), "'" + iterations + "': expected an integer scalar, found " +
                                          info.dtype + " " + shape_text(info.shape));
    const std::int64_t count = file.read_int64(iterations);
    if (count < 0)
        throw_file_error(file.path(),
                         "'" + iterations + "' is negative (" + std::to_string(count) + ")");
    state.iterations = std::uint64_t(count);
    const std::string prefix = state.name + "/";
    for (std::size_t i = 1; i < names.size(); ++i) {
        if (!names[i].starts_with(prefix))
            throw_file_error(file.path(), group + ": variable '" + names[i] +
                                              "' does not start with '" + prefix + "'");
        std::string name = names[i].substr(prefix.size());
        if (name.ends_with(":0"))
            name.resize(name.size() - 2);
        stored_weight stored = read_float32_weight(file, join_path(group, names[i]), names[i],
                                                   "optimizer slot '" + name + "'");
        xt::xarray<float> value(stored.shape);
        std::copy(stored.values.begin(), stored.values.end(), value.begin());
        state.slots.push_back({std::move(name), std::move(value)});
    }
    check_state(file.path(), state);
    return state;
}

}  // namespace detail

// Writes the model's weights and `state` to one file, through a temporary file renamed over
// `path`. A state that does not fit the model (a slot "<layer>/<weight>/m" of another shape)
// is refused before anything is written.
template <class Model>
void save_checkpoint(const std::filesystem::path& path, const Model& model,
                     const optimizer_state& state) {
    try {
        detail::check_state(path, state);
        detail::check_slot_shapes(path, state, detail::model_layers(model));
    } catch (const weight_file_error& error) {
        detail::rethrow_as_file_error("save_checkpoint", path, error.what());
    }
    const std::vector<stored_layer> layers = detail::keras2_layers_of(model);
    atomic_save(path, [&](hdf5_file& file) {
        write_keras2_layers(file, "/", layers);
        detail::write_optimizer_state(file, state);
    });
}

// Reads a checkpoint (or a Keras full-model .h5 with optimizer weights): checks the weights and
// the optimizer state, then sets the weights and returns the state. On any error the model is
// unchanged. Options as for load_weights (xf::by_name).
template <class Model, class... Options>
optimizer_state load_checkpoint(const std::filesystem::path& path, Model& model, Options...) {
    constexpr bool by_name = detail::by_name_requested<Options...>();
    auto [weights,
          state] = detail::read_weight_file("load_checkpoint", path, [&](const hdf5_file& file) {
        std::vector<xt::xarray<float>> values = detail::read_model_weights(file, model, by_name);
        optimizer_state read = detail::read_optimizer_state(file);
        detail::check_slot_shapes(path, read, detail::model_layers(model));
        return std::pair{std::move(values), std::move(read)};
    });
    model.set_weights(weights);
    return std::move(state);
}

}  // namespace xfuse::io
