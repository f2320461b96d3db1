// The trainer's optimizer state (train/optimizers.hpp: one set of padded float buffers per
// contiguous run of parameters) as a checkpoint file stores it (io/keras_checkpoint.hpp: one
// named, unpadded array per model weight and slot), and back.
//
// Names and order are tf.keras 2.x's (optimizer_v2, the optimizers whose full-model .h5 files
// carry "<Optimizer>/iter:0"): every weight's first slot, then every weight's second, ... in
// model.weights order, each "<layer>/<weight>/<slot>":
//
//   Adam, AdamW   m, v (, vhat with amsgrad)
//   SGD           momentum (only with momentum > 0; plain SGD has no slots)
//   RMSprop       rms (, momentum with momentum > 0) (, mg when centered)
//   Adagrad       accumulator
//
// So a checkpoint's optimizer section reads like Keras' and a Keras full-model file's Adam state
// loads into a model compiled with xf::Adam. Loading builds complete new states (padding lanes
// as make_state leaves them, so a resumed state equals the uninterrupted one bit for bit) and
// checks everything before the caller commits them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>
#include <xtensor/xarray.hpp>

#include "../graph/weights.hpp"
#include "../train/optimizers.hpp"
#include "../train/parameter_runs.hpp"
#include "keras_checkpoint.hpp"
#include "keras_layout.hpp"

namespace xfuse::io::detail {

// One kind of slot: its Keras name and its index in the trainer's optimizer_state::slots.
struct keras_slot {
    std::string_view kind;
    std::size_t slot;
};

struct keras_optimizer_naming {
    std::string_view name;  // the file's variable prefix: "Adam"
    std::vector<keras_slot> slots;
};

inline keras_optimizer_naming keras_naming(const SGD& c) {
    if (c.momentum > 0.0f)
        return {"SGD", {{"momentum", 0}}};
    return {"SGD", {}};
}
inline keras_optimizer_naming keras_naming(const Adam& c) {
    if (c.amsgrad)
        return {"Adam", {{"m", 0}, {"v", 1}, {"vhat", 2}}};
    return {"Adam", {{"m", 0}, {"v", 1}}};
}
inline keras_optimizer_naming keras_naming(const AdamW& c) {
    if (c.amsgrad)
        return {"AdamW", {{"m", 0}, {"v", 1}, {"vhat", 2}}};
    return {"AdamW", {{"m", 0}, {"v", 1}}};
}
// The trainer keeps velocity, average gradient (centered), momentum; Keras lists rms, momentum,
// mg.
inline keras_optimizer_naming keras_naming(const RMSprop& c) {
    keras_optimizer_naming naming{"RMSprop", {{"rms", 0}}};
    const std::size_t last = xfuse::detail::slot_count(c) - 1;
    if (c.momentum > 0.0f)
        naming.slots.push_back({"momentum", last});
    if (c.centered)
        naming.slots.push_back({"mg", 1});
    return naming;
}
inline keras_optimizer_naming keras_naming(const Adagrad&) {
    return {"Adagrad", {{"accumulator", 0}}};
}
inline keras_optimizer_naming keras_naming(const any_optimizer& config) {
    return std::visit([](const auto& c) { return keras_naming(c); }, config);
}

using xfuse::detail::parameter_run;
using xfuse::detail::parameter_runs;

// Where one model weight sits in the optimizer states.
struct weight_place {
    std::string name;  // "dense/kernel"
    weight_spec spec;
    std::size_t state;
    std::size_t offset;  // floats from the start of the state's run
};

template <class Model>
std::vector<weight_place> weight_places(const Model& model,
                                        const std::vector<parameter_run>& runs) {
    using graph = typename Model::graph_type;
    std::vector<weight_place> places;
    xfuse::detail::for_each_weight<graph>(
        model.layer_parameters(), xfuse::detail::all_layers,
        [&](std::size_t layer, const weight_spec& w, const float* storage) {
            std::size_t r = 0;
            while (!(runs[r].first <= storage && storage < runs[r].first + runs[r].size))
                ++r;
            places.push_back({std::string(graph::names[layer].view()) + "/" + std::string(w.name),
                              w, r, std::size_t(storage - runs[r].first)});
        });
    return places;
}

// The states the next fit() would run with: the model's own when they fit the runs and the
// compiled optimizer (they do after a fit), fresh ones otherwise (before the first fit).
template <class Model>
std::vector<xfuse::optimizer_state> states_for_next_fit(const Model& model,
                                                        const std::vector<parameter_run>& runs) {
    const any_optimizer& config = model.optimizer();
    const std::size_t slots =
        std::visit([](const auto& c) { return xfuse::detail::slot_count(c); }, config);
    const std::vector<xfuse::optimizer_state>& states = model.optimizer_states();
    bool fits = states.size() == runs.size();
    for (std::size_t i = 0; fits && i < runs.size(); ++i)
        fits = states[i].size == runs[i].size && states[i].slots.size() == slots;
    if (fits)
        return states;
    std::vector<xfuse::optimizer_state> fresh;
    for (const parameter_run& run : runs)
        fresh.push_back(make_state(config, run.size));
    return fresh;
}

// The compiled model's optimizer state in Keras' names and shapes.
template <class Model>
optimizer_state keras_state_of(const Model& model) {
    const keras_optimizer_naming naming = keras_naming(model.optimizer());
    const std::vector<parameter_run> runs =
        parameter_runs<typename Model::graph_type>(model.layer_parameters());
    const std::vector<xfuse::optimizer_state> states = states_for_next_fit(model, runs);
    // Every run takes one step per batch, so their counts agree.
    optimizer_state result{
        std::string(naming.name), states.empty() ? 0 : std::uint64_t(states[0].iterations), {}};
    for (const keras_slot& slot : naming.slots)
        for (const weight_place& place : weight_places(model, runs))
            result.slots.push_back(
                {place.name + "/" + std::string(slot.kind),
                 xfuse::detail::read_weight(
                     place.spec, states[place.state].slots[slot.slot].data() + place.offset)});
    return result;
}

inline const named_array* find_slot(const optimizer_state& state, const std::string& name) {
    for (const named_array& slot : state.slots)
        if (slot.name == name)
            return &slot;
    return nullptr;
}

// New trainer states for `model` from a checkpoint's `state`, or weight_file_error naming the
// file, the slot and what was expected. Slots pair with the model's weights by name with
// xf::by_name, by position otherwise (as Keras' optimizer.set_weights, so a model whose layers
// are named differently loads; the slot kind must still match). Changes nothing.
template <class Model>
std::vector<xfuse::optimizer_state> trainer_states_from(const std::filesystem::path& file,
                                                        const Model& model,
                                                        const optimizer_state& state,
                                                        bool by_name) {
    const any_optimizer& config = model.optimizer();
    const keras_optimizer_naming naming = keras_naming(config);
    if (state.name != naming.name)
        throw_file_error(file, "the file's optimizer is " + state.name +
                                   ", the model is compiled with " + std::string(naming.name) +
                                   " (a checkpoint resumes the optimizer that wrote it)");
    const std::vector<parameter_run> runs =
        parameter_runs<typename Model::graph_type>(model.layer_parameters());
    const std::vector<weight_place> places = weight_places(model, runs);
    const std::size_t expected = naming.slots.size() * places.size();
    if (state.slots.size() != expected) {
        std::string kinds;
        for (const keras_slot& slot : naming.slots)
            kinds += (kinds.empty() ? "" : ", ") + std::string(slot.kind);
        throw_file_error(file, "expected " + std::to_string(expected) + " " + state.name +
                                   " slots (" + kinds + " for each of the model's " +
                                   std::to_string(places.size()) + " weights), the file has " +
                                   std::to_string(state.slots.size()));
    }
    std::vector<xfuse::optimizer_state> states;
    for (const parameter_run& run : runs)
        states.push_back(make_state(config, run.size));
    for (std::size_t k = 0; k < naming.slots.size(); ++k)
        for (std::size_t p = 0; p < places.size(); ++p) {
            const weight_place& place = places[p];
            const std::string name = place.name + "/" + std::string(naming.slots[k].kind);
            const named_array* found = &state.slots[k * places.size() + p];
            if (by_name) {
                found = find_slot(state, name);
                if (!found)
                    throw_file_error(file, "no optimizer slot '" + name + "' (" + state.name + "/" +
                                               name + ":0) for layer '" +
                                               place.name.substr(0, place.name.find('/')) + "'");
            } else if (!found->name.ends_with("/" + std::string(naming.slots[k].kind))) {
                throw_file_error(file, "optimizer slot " + std::to_string(k * places.size() + p) +
                                           " is '" + found->name + "', expected the '" +
                                           std::string(naming.slots[k].kind) + "' of '" +
                                           place.name + "' (slots pair by position; " +
                                           "xf::by_name pairs names)");
            }
            if (!xfuse::detail::shape_matches(place.spec, found->value)) {
                const std::vector<std::size_t> actual(found->value.shape().begin(),
                                                      found->value.shape().end());
                const std::string paired = found->name == name ? "" : " (as '" + name + "')";
                throw_file_error(file, "optimizer slot '" + found->name + "'" + paired +
                                           ": expected shape " + shape_text(dims_of(place.spec)) +
                                           " (the weight's), got " + shape_text(actual));
            }
            xfuse::detail::write_weight(
                place.spec, found->value,
                states[place.state].slots[naming.slots[k].slot].data() + place.offset);
        }
    for (xfuse::optimizer_state& s : states)
        s.iterations = std::int64_t(state.iterations);  // read_optimizer_state checked the range
    return states;
}

}  // namespace xfuse::io::detail
