// The xfuse models under test: the seed notebook's attention model at any attention width, its
// attention sub-model, weights that exercise every parameter, and the FLOP count per sample.
#pragma once

#include <cstddef>
#include <random>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "baselines/weights.hpp"

namespace bench {

namespace xf = xfuse;

inline constexpr std::size_t input1_features = 10;
inline constexpr std::size_t input2_features = 20;

// The seed model with attention width W: Dense(W/3, relu) and Dense(W - W/3, relu) on the two
// inputs, Concatenate (W), Dense(W, softmax) "attention", Dot with it, Dense(1, sigmoid). W = 96
// is the notebook's model (32 + 64). Tagged layers, since the layers are written inside a
// template (docs/identity.md: g++ 12 cannot substitute the default identity there).
template <std::size_t W>
auto build_width_model() {
    static_assert(W >= 3, "bench: both feature layers need at least one unit");
    auto input1 = xf::tagged::Input<struct input1_tag, input1_features>{};
    auto input2 = xf::tagged::Input<struct input2_tag, input2_features>{};
    auto x1 = xf::tagged::Dense<struct features1_tag, W / 3, xf::relu>{}(input1);
    auto x2 = xf::tagged::Dense<struct features2_tag, W - W / 3, xf::relu>{}(input2);
    auto x = xf::tagged::Concatenate<struct concatenate_tag>{}(x1, x2);
    auto alpha = xf::tagged::Dense<struct attention_tag, W, xf::softmax, "attention">{}(x);
    auto s = xf::tagged::Dot<struct dot_tag, 1>{}(x, alpha);
    auto output = xf::tagged::Dense<struct output_tag, 1, xf::sigmoid>{}(s);
    return xf::Model{xf::inputs(input1, input2), output};
}

// The sub-model from the same inputs to the attention weights, sharing `model`'s weights.
template <class Model>
auto attention_submodel(Model& model) {
    return xf::Model{model.inputs(), model.template get_layer<"attention">().output()};
}

// Keras initialises biases to zero, which would let a baseline that drops a bias pass the
// correctness gate; give every bias (the odd entries of Keras' order) a random value instead.
template <class Model>
void randomize_biases(Model& model, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
    std::vector<xt::xarray<float>> weights = model.get_weights();
    for (std::size_t k = 1; k < weights.size(); k += 2)
        for (float& v : weights[k])
            v = uniform(engine);
    model.set_weights(weights);
}

// FLOPs per sample: 2 in out per Dense (one multiply and one add per weight), 2 n for the Dot
// of two n-vectors; bias additions and activations are not counted (the usual convention, and
// they are O(n) next to the O(n^2) attention kernel).
inline double attention_flops(const attention_weights& w) {
    const auto dense = [](const dense_weights& d) { return 2.0 * double(d.in * d.out); };
    return dense(w.features1) + dense(w.features2) + dense(w.attention);
}
inline double model_flops(const attention_weights& w) {
    return attention_flops(w) + 2.0 * double(w.width()) + 2.0 * double(w.output.in * w.output.out);
}

}  // namespace bench
