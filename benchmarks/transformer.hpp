// The Transformer classifier's workloads (examples/transformer_classifier.cpp at its size: 200
// token ids per sample, vocabulary 20000, embedding 32, 2 heads): predict on a batch of 32, and
// one training step on a batch of 32 (forward, backward, Adam), xfuse against LibTorch where
// installed (baselines/torch_transformer.hpp), from the same weights.
//
// Every Dropout of the benchmarked model has rate 0, in xfuse and (by leaving it out) in
// LibTorch: with dropout active the two sides would draw different masks, and the gate could not
// compare their steps. In predict Dropout is the identity at any rate.
//
// Gates, before anything is timed: LibTorch's probabilities on the batch within gate_tolerance
// of xfuse's; for the step, LibTorch's loss within gate_tolerance of xfuse's, and (with the
// epsilon that makes PyTorch's first Adam step equal Keras', torch_training.hpp) every weight
// after the step within transformer_step_tolerance of xfuse's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <random>
#include <string>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "report.hpp"
#include "suite.hpp"
#include "transformer_model.hpp"
#ifdef XFUSE_BENCH_HAVE_TORCH
#include "baselines/torch_training.hpp"
#include "baselines/torch_transformer.hpp"
#endif

namespace bench {

inline constexpr std::size_t transformer_batch = 32;

// Adam's first step moves a weight by about the learning rate whatever its gradient's size, so
// a weight whose gradient is near epsilon (1e-7) moves by an amount that depends on the
// gradient's last bits, which the two implementations sum in different orders.
inline constexpr double transformer_step_tolerance = 1e-4;

// Weights that exercise every parameter: Keras initialises biases and beta to zero and gamma to
// one, which would let a baseline that drops one pass the gate; the kernels and the token table
// keep their random initial values, everything else gets a random offset.
inline std::vector<xt::xarray<float>> transformer_weights(transformer_model& model) {
    model.initialize_weights(11);
    std::vector<xt::xarray<float>> weights = model.get_weights();
    std::mt19937 engine(12);
    std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
    for (const std::size_t k : {1, 3, 5, 7, 9, 10, 11, 13, 15, 16, 17, 19, 21})
        for (float& v : weights[k])
            v += uniform(engine);
    model.set_weights(weights);
    return weights;
}

// Token ids in [0, vocab) and class labels.
inline batch transformer_tokens(std::size_t samples, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> token(0, int(tx_vocab) - 1);
    batch x({samples, tx_maxlen});
    for (float& v : x)
        v = float(token(engine));
    return x;
}
inline xt::xtensor<float, 1> transformer_labels(std::size_t samples, unsigned seed) {
    std::mt19937 engine(seed);
    xt::xtensor<float, 1> y = xt::zeros<float>({samples});
    for (float& v : y)
        v = float(engine() % tx_classes);
    return y;
}

// Largest |difference| between two weight sets of the same shapes.
inline double largest_difference(const std::vector<xt::xarray<float>>& a,
                                 const std::vector<xt::xarray<float>>& b, std::size_t& where) {
    double largest = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        for (std::size_t i = 0; i < a[k].size(); ++i) {
            const double difference = std::abs(double(a[k].data()[i]) - double(b[k].data()[i]));
            if (!(difference <= largest)) {  // NaN wins
                largest = difference;
                where = k;
            }
        }
    return largest;
}

inline void add_transformer_predict(suite& s) {
    auto& model = retain<transformer_model>(build_transformer(0.0f));
    [[maybe_unused]] const std::vector<xt::xarray<float>> weights = transformer_weights(model);
    const batch& x = retain<batch>(transformer_tokens(transformer_batch, 21));
    workload& work = s.add_workload(
        {"transformer_predict", "transformer predict, batch " + std::to_string(transformer_batch),
         transformer_batch, transformer_flops()});
    [[maybe_unused]] const batch& expected = retain<batch>(model.predict(x));
    s.add_timed(work, "xfuse_fused", [&model, &x] { return model.predict(x); });
#ifdef XFUSE_BENCH_HAVE_TORCH
    auto& torch = retain<torch_transformer>(weights);
    auto& out = retain<std::vector<float>>(expected.size());
    torch.predict(x.data(), transformer_batch, out.data());
    check_gate(work.name + "/libtorch", out.data(), expected);
    s.add_timed(work, "libtorch", [&torch, &x, &out] {
        torch.predict(x.data(), transformer_batch, out.data());
        return out.data();
    });
#endif
}

inline void add_transformer_train_step(suite& s) {
    auto& model = retain<transformer_model>(build_transformer(0.0f));
    const auto& initial = retain<std::vector<xt::xarray<float>>>(transformer_weights(model));
    const batch& x = retain<batch>(transformer_tokens(transformer_batch, 22));
    const auto& y = retain<xt::xtensor<float, 1>>(transformer_labels(transformer_batch, 23));
    workload& work =
        s.add_workload({"transformer_train_step",
                        "transformer train step, batch " + std::to_string(transformer_batch),
                        transformer_batch, 3.0 * transformer_flops()});

    const auto reset_xfuse = [&model, &initial] {
        model.set_weights(initial);
        model.compile(xf::Adam{}, xf::SparseCategoricalCrossentropy{});  // a fresh Adam state
    };
    const auto step = [&model, &x, &y] {
        const xf::History h = model.fit(
            x, y,
            xf::FitOptions{
                .epochs = 1, .batch_size = transformer_batch, .shuffle = false, .verbose = 0});
        return h.history.at("loss").back();
    };

    // The gate: one step from the same weights.
    reset_xfuse();
    [[maybe_unused]] const double xfuse_loss = step();
    const std::vector<xt::xarray<float>> xfuse_after = model.get_weights();
    std::size_t where = 0;
    const double moved = largest_difference(initial, xfuse_after, where);
    if (!(moved > 1e-4))
        gate_failure(work.name + "/xfuse_fused: the step left the weights (almost) unchanged");
    s.add_stateful(work, "xfuse_fused", reset_xfuse, step);

#ifdef XFUSE_BENCH_HAVE_TORCH
    torch_transformer one_step(initial, torch_training::keras_equivalent_epsilon(1));
    const double torch_loss = one_step.train_step(x.data(), y.data(), transformer_batch);
    if (!(std::abs(torch_loss - xfuse_loss) <= gate_tolerance))
        gate_failure(work.name + "/libtorch: the loss of the first step is " +
                     std::to_string(torch_loss) + ", xfuse's " + std::to_string(xfuse_loss));
    const double difference = largest_difference(one_step.weights(), xfuse_after, where);
    if (!(difference <= transformer_step_tolerance))
        gate_failure(work.name + "/libtorch: after one step, weight array " +
                     std::to_string(where) + " (Keras order) differs from xfuse's by " +
                     std::to_string(difference));
    std::cout << "  transformer gate: first-step loss " << format("%.6f", xfuse_loss)
              << " (xfuse), " << format("%.6f", torch_loss) << " (LibTorch); weights after the "
              << "step within " << format("%.2g", difference) << " (largest change "
              << format("%.2g", moved) << ")\n";
    auto& torch = retain<torch_transformer>(initial);
    s.add_stateful(
        work, "libtorch", [&torch, &initial] { torch.reset(initial); },
        [&torch, &x, &y] { return torch.train_step(x.data(), y.data(), transformer_batch); });
#endif
}

inline void add_transformer_workloads(suite& s) {
    add_transformer_predict(s);
    add_transformer_train_step(s);
}

}  // namespace bench
