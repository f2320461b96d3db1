// model.save_checkpoint(path) / model.load_checkpoint(path[, xf::by_name]): the weights and the
// compiled optimizer's state (slots and step count) in one file, so that
//
//   model.fit(x, y, {.epochs = 4, .seed = 7});
//
// and
//
//   model.fit(x, y, {.epochs = 2, .seed = 7});
//   model.save_checkpoint("run.h5");
//   ... a new process, the same model, compile(), load_checkpoint("run.h5") ...
//   model.fit(x, y, {.epochs = 4, .seed = 7, .initial_epoch = 2});
//
// end with the same weights, bit for bit. The file is io/keras_checkpoint.hpp's (a tf.keras 2.x
// weights file with Keras' /optimizer_weights group); io/optimizer_slots.hpp converts the state.
//
// Decisions:
//  * Both need a compiled model (std::logic_error otherwise): the optimizer decides which slots
//    exist, and a checkpoint without them could not resume anything (save_weights saves weights
//    alone).
//  * Saved before the first fit, a checkpoint holds the state that fit would start from (step 0,
//    zero slots, Adagrad's initial accumulator). Keras writes no optimizer weights then because
//    its slots do not exist yet; xfuse's are fixed by compile(), and writing them keeps "every
//    checkpoint has an optimizer section" true.
//  * Loading reads and checks the weights and the whole optimizer section (kind, slot names or
//    order, shapes) before anything changes, then sets both: a bad file leaves the weights and the
//    optimizer state as they were. The next fit() keeps the loaded states (their sizes match the
//    model's parameter runs, train/trainer.hpp) and continues from their step count.
//  * Hyperparameters (learning rate, betas) are the compiled ones; the file holds none. Compile
//    before loading: compile() always starts a fresh optimizer state.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "hdf5_file.hpp"
#include "keras_checkpoint.hpp"
#include "keras_weights.hpp"
#include "optimizer_slots.hpp"

namespace xfuse::io {

namespace detail {

template <class Model>
void require_compiled(const Model& model, const char* operation,
                      const std::filesystem::path& path) {
    if (!model.is_compiled())
        throw std::logic_error(std::string("xfuse: ") + operation + ": '" + path.string() +
                               "': call compile() first: a checkpoint holds the compiled "
                               "optimizer's state (save_weights/load_weights take weights alone)");
}

}  // namespace detail

// Writes the model's weights and its optimizer's state, atomically (the previous file survives
// any failure).
template <class Model>
void save_training_checkpoint(const std::filesystem::path& path, const Model& model) {
    detail::require_compiled(model, "save_checkpoint", path);
    save_checkpoint(path, model, detail::keras_state_of(model));
}

// Reads a checkpoint (or a Keras full-model .h5 saved after training with the same optimizer)
// into the weights and the optimizer state; all or nothing.
template <class Model, class... Options>
void load_training_checkpoint(const std::filesystem::path& path, Model& model, Options...) {
    constexpr bool by_name = detail::by_name_requested<Options...>();
    detail::require_compiled(model, "load_checkpoint", path);
    auto [weights,
          states] = detail::read_weight_file("load_checkpoint", path, [&](const hdf5_file& file) {
        std::vector<xt::xarray<float>> values = detail::read_model_weights(file, model, by_name);
        const optimizer_state read = detail::read_optimizer_state(file);
        return std::pair{std::move(values),
                         detail::trainer_states_from(path, model, read, by_name)};
    });
    // Both are checked: set_weights finds the shapes it checks again right and cannot throw.
    model.set_weights(weights);
    model.optimizer_states() = std::move(states);
}

}  // namespace xfuse::io
