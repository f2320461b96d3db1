// xf::FitOptions: fit()'s arguments with Keras' defaults (keras/engine/training.py fit), given
// as designated initialisers in the order of the fields below:
//
//   model.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 10, .batch_size = 32,
//             .validation_split = 0.2f, .shuffle = true, .verbose = 1, .seed = 7});
//
// batch_size is Keras' default 32 (batch_size=None for arrays); validation_split keeps the first
// floor(N*(1-split)) rows for training and validates on the rest, split before any shuffling;
// shuffle draws a new permutation each epoch from
// `seed` (unset: from xfuse's global generator, like Keras' unseeded shuffling); verbose 0, 1
// (bar) or 2 (one line per epoch).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "callbacks.hpp"

namespace xfuse {

struct FitOptions {
    int epochs = 1;
    std::size_t batch_size = 32;
    float validation_split = 0.0f;
    bool shuffle = true;
    int verbose = 1;
    std::optional<std::uint64_t> seed{};
    callback_list callbacks{};
    // Keras' initial_epoch: resume at this epoch (0-based) and run up to `epochs`. Epoch e's
    // permutation depends only on (seed, e), so a run resumed from a checkpoint shuffles as the
    // uninterrupted run would have.
    int initial_epoch = 0;

    void validate() const {
        if (epochs < 0)
            throw std::invalid_argument("xfuse::FitOptions: epochs must be >= 0, got " +
                                        std::to_string(epochs));
        if (batch_size == 0)
            throw std::invalid_argument("xfuse::FitOptions: batch_size must be >= 1, got 0");
        if (!(validation_split >= 0.0f && validation_split < 1.0f))
            throw std::invalid_argument(
                "xfuse::FitOptions: validation_split must lie in [0, 1), got " +
                std::to_string(validation_split));
        if (initial_epoch < 0)
            throw std::invalid_argument("xfuse::FitOptions: initial_epoch must be >= 0, got " +
                                        std::to_string(initial_epoch));
        if (verbose < 0 || verbose > 2)
            throw std::invalid_argument("xfuse::FitOptions: verbose must be 0, 1 or 2, got " +
                                        std::to_string(verbose));
    }

    // Keras' train_validation_split: the first floor(n * (1 - split)) rows train. Keras' split
    // is a Python double; the float's shortest decimal (0.2f -> "0.2") read as a double gives
    // the same rows (double(0.2f) would give 7999 of 10000, not 8000).
    std::size_t training_rows(std::size_t n) const {
        char text[32];
        const auto end = std::to_chars(text, text + sizeof text, validation_split).ptr;
        const double split = std::strtod(std::string(text, end).c_str(), nullptr);
        return static_cast<std::size_t>(std::floor(double(n) * (1.0 - split)));
    }
};

}  // namespace xfuse
