// The training workload (issue 4's "Speed" section): one epoch of the seed model on 10000
// samples in shuffled batches of 32, Adam and binary crossentropy, timed for xfuse's fit()
// against the hand-written Eigen trainer (baselines/eigen_training.hpp) and, where installed,
// LibTorch (baselines/torch_training.hpp).
//
// Every timed call starts from the same weights and a fresh optimizer state: the contender is
// reset outside the timed region (suite::add_stateful), so every call trains the same model on
// the same permutation and the same numbers. Timing epochs of a continuing model (Keras' epoch
// time) would time a different, further-trained model in each call, and hundreds of epochs per
// row; the work per epoch is the same either way, only the values differ.
//
// Gate, before anything is timed: from the same initial weights, one epoch without shuffling
// must leave the Eigen trainer's weights within gate_tolerance of xfuse's (fit with shuffle =
// false), every one of the 313 steps' Adam updates included. LibTorch's Adam puts epsilon
// elsewhere (see torch_training.hpp), so it is gated on one step, where an epsilon can be chosen
// that makes the two formulas equal.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "baselines/eigen_training.hpp"
#include "baselines/weights.hpp"
#include "models.hpp"
#include "report.hpp"
#include "suite.hpp"
#ifdef XFUSE_BENCH_HAVE_TORCH
#include "baselines/torch_training.hpp"
#endif

namespace bench {

inline constexpr const char* training_workload = "train_epoch";
inline constexpr std::size_t training_batch_size = 32;
inline constexpr std::uint64_t training_shuffle_seed = 7;

// Labels the model can learn: the sign of a fixed mix of both inputs, as 0 or 1.
inline batch training_labels(const batch& a, const batch& b) {
    batch y({a.shape(0), 1});
    for (std::size_t i = 0; i < a.shape(0); ++i)
        y(i, 0) = a(i, 0) + a(i, 1) - a(i, 2) - 0.5f * b(i, 0) > 0.f ? 1.f : 0.f;
    return y;
}

// Aborts unless every weight of `actual` is within `tolerance` of `expected`'s; returns the
// largest difference.
inline double check_weights_gate(const std::string& who, const attention_weights& actual,
                                 const attention_weights& expected,
                                 double tolerance = gate_tolerance) {
    const auto arrays = [](const attention_weights& w) {
        return std::array{&w.features1.kernel, &w.features1.bias,   &w.features2.kernel,
                          &w.features2.bias,   &w.attention.kernel, &w.attention.bias,
                          &w.output.kernel,    &w.output.bias};
    };
    const auto got = arrays(actual), want = arrays(expected);
    double largest = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
        if (got[k]->size() != want[k]->size())
            gate_failure(who + ": weight array " + std::to_string(k) + " has " +
                         std::to_string(got[k]->size()) + " values, expected " +
                         std::to_string(want[k]->size()));
        for (std::size_t i = 0; i < got[k]->size(); ++i) {
            const double difference = std::abs(double((*got[k])[i]) - double((*want[k])[i]));
            largest = std::max(largest, difference);
            if (!(difference <= tolerance))  // also catches NaN
                gate_failure(who + ": weight array " + std::to_string(k) +
                             " (Keras order), entry " + std::to_string(i) + " is " +
                             std::to_string((*got[k])[i]) + ", expected " +
                             std::to_string((*want[k])[i]));
        }
    }
    return largest;
}

// Largest |change| of any weight between two sets: the gate must compare weights that trained.
inline double largest_change(const attention_weights& before, const attention_weights& after) {
    double largest = 0;
    const dense_weights* b[] = {&before.features1, &before.features2, &before.attention,
                                &before.output};
    const dense_weights* a[] = {&after.features1, &after.features2, &after.attention,
                                &after.output};
    for (std::size_t l = 0; l < 4; ++l) {
        for (std::size_t i = 0; i < b[l]->kernel.size(); ++i)
            largest = std::max(largest, std::abs(double(a[l]->kernel[i]) - b[l]->kernel[i]));
        for (std::size_t i = 0; i < b[l]->bias.size(); ++i)
            largest = std::max(largest, std::abs(double(a[l]->bias[i]) - b[l]->bias[i]));
    }
    return largest;
}

// Registers the training workload on the samples (a, b); the inputs must outlive the run.
inline void add_training_workload(suite& s, const batch& a, const batch& b) {
    // The seed model, its layers tagged (seed::build()'s default identities would give this
    // header's lambdas a type from an anonymous namespace).
    auto& model = retain<decltype(build_width_model<96>())>(build_width_model<96>());
    randomize_biases(model, 4);
    const auto& initial = retain<std::vector<xt::xarray<float>>>(model.get_weights());
    const attention_weights w0 = read_attention_weights(initial);
    const batch& y = retain<batch>(training_labels(a, b));
    const std::size_t n = a.shape(0);

    workload& work = s.add_workload({training_workload,
                                     "train one epoch, " + std::to_string(n) + " samples, batch " +
                                         std::to_string(training_batch_size),
                                     n, 3.0 * model_flops(w0)});

    const auto reset_xfuse = [&model, &initial] {
        model.set_weights(initial);
        model.compile(xf::Adam{}, xf::BinaryCrossentropy{});  // a fresh Adam state
    };
    const auto fit = [&model, &a, &b, &y](bool shuffle) {
        const xf::History h = model.fit(std::tie(a, b), y,
                                        xf::FitOptions{.epochs = 1,
                                                       .batch_size = training_batch_size,
                                                       .shuffle = shuffle,
                                                       .verbose = 0,
                                                       .seed = training_shuffle_seed});
        return h.history.at("loss").back();
    };

    // The gate: one epoch in order, xfuse against Eigen, from the same weights.
    reset_xfuse();
    fit(false);
    const attention_weights xfuse_after = read_attention_weights(model.get_weights());
    if (!(largest_change(w0, xfuse_after) > 1e-3))
        gate_failure(work.name + "/xfuse_fused: one epoch left the weights (almost) unchanged");
    auto& eigen = retain<eigen_training>(w0, training_batch_size);
    eigen.epoch(a.data(), b.data(), y.data(), n, std::nullopt);
    const double eigen_difference = check_weights_gate(
        work.name + "/eigen_batched (one epoch without shuffling)", eigen.weights(), xfuse_after);
    std::cout << "  training gate: after one epoch without shuffling, the Eigen trainer's weights "
                 "are within "
              << format("%.2g", eigen_difference) << " of xfuse's (largest change in the epoch "
              << format("%.2g", largest_change(w0, xfuse_after)) << ")\n";

    s.add_stateful(work, "xfuse_fused", reset_xfuse, [fit] { return fit(true); });
    s.add_stateful(
        work, "eigen_batched", [&eigen, w0] { eigen.reset(w0); },
        [&eigen, &a, &b, &y, n] {
            return eigen.epoch(a.data(), b.data(), y.data(), n, training_shuffle_seed);
        });

#ifdef XFUSE_BENCH_HAVE_TORCH
    // One step on the first batch, with the epsilon that makes PyTorch's Adam step equal
    // Keras' at t = 1, against the Eigen trainer's (gated above) step.
    torch_training one_step(w0, training_batch_size, torch_training::keras_equivalent_epsilon(1));
    one_step.epoch(a.data(), b.data(), y.data(), training_batch_size, std::nullopt);
    eigen.reset(w0);
    eigen.epoch(a.data(), b.data(), y.data(), training_batch_size, std::nullopt);
    const double torch_difference =
        check_weights_gate(work.name + "/libtorch (one step)", one_step.weights(), eigen.weights());
    std::cout << "  training gate: one step of LibTorch's Adam (epsilon matched for t = 1) within "
              << format("%.2g", torch_difference) << " of the Eigen trainer's\n";
    auto& torch = retain<torch_training>(w0, training_batch_size);
    s.add_stateful(
        work, "libtorch", [&torch, w0] { torch.reset(w0); },
        [&torch, &a, &b, &y, n] {
            return torch.epoch(a.data(), b.data(), y.data(), n, training_shuffle_seed);
        });
#endif
}

}  // namespace bench
