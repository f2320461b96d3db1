// Shared by the checkpoint tests that train (tests/io/keras_h5_training_checkpoint.cpp,
// keras_h5_model_checkpoint.cpp): a small two-input training set for the seed model, fit options
// for a resumable run, and a bitwise comparison of the trainer's optimizer states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#include <xfuse/xfuse.hpp>
#include <xtensor/xtensor.hpp>

#include "support/reference.hpp"

namespace checkpoint_test {

namespace xf = xfuse;

// Inputs of the seed model's shapes; the label is the sign of a - b of two first-input features.
struct data_set {
    xt::xtensor<float, 2> a;
    xt::xtensor<float, 2> b;
    xt::xtensor<float, 2> y;

    data_set(std::size_t rows, unsigned seed)
        : a(reference::random_batch(rows, 10, seed)),
          b(reference::random_batch(rows, 20, seed + 1)),
          y({rows, 1}) {
        for (std::size_t i = 0; i < rows; ++i)
            y(i, 0) = a(i, 0) - a(i, 1) > 0.0f ? 1.0f : 0.0f;
    }
};

// Batches of 32 over the first 80 % of the rows, shuffled from a fixed seed.
inline xf::FitOptions options(int epochs, int initial_epoch = 0, xf::callback_list callbacks = {},
                              std::uint64_t seed = 7) {
    return {.epochs = epochs,
            .batch_size = 32,
            .validation_split = 0.2f,
            .verbose = 0,
            .seed = seed,
            .callbacks = std::move(callbacks),
            .initial_epoch = initial_epoch};
}

// Same sizes, step counts and slot contents, padding included.
inline bool same_states(const std::vector<xf::optimizer_state>& a,
                        const std::vector<xf::optimizer_state>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].size != b[i].size || a[i].iterations != b[i].iterations ||
            a[i].slots.size() != b[i].slots.size())
            return false;
        for (std::size_t k = 0; k < a[i].slots.size(); ++k)
            if (std::memcmp(a[i].slots[k].data(), b[i].slots[k].data(),
                            a[i].size * sizeof(float)) != 0)
                return false;
    }
    return true;
}

}  // namespace checkpoint_test
