// The attention model's weights as plain arrays, read once from xfuse's get_weights() so that
// every baseline computes with exactly the weights xfuse uses.
//
// The model (the seed notebook's at width 96): two inputs of 10 and 20 features, Dense(W/3,
// relu) and Dense(W - W/3, relu) on them, Concatenate (W), Dense(W, softmax) "attention", Dot of
// the concatenation with the attention weights, Dense(1, sigmoid).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

namespace bench {

// A Dense layer's parameters in Keras' layout: kernel (in, out) row-major, then bias (out).
// Read as a column-major matrix, the same kernel is the (out, in) matrix W of y = W x + b.
struct dense_weights {
    std::size_t in = 0, out = 0;
    std::vector<float> kernel;
    std::vector<float> bias;
};

struct attention_weights {
    dense_weights features1, features2, attention, output;
    std::size_t width() const noexcept { return attention.out; }
};

namespace detail {

inline dense_weights read_dense(const std::vector<xt::xarray<float>>& weights, std::size_t k,
                                const char* layer) {
    const auto& kernel = weights[2 * k];
    const auto& bias = weights[2 * k + 1];
    if (kernel.dimension() != 2 || bias.dimension() != 1 || bias.shape(0) != kernel.shape(1))
        throw std::invalid_argument(std::string("bench: weights of ") + layer +
                                    ": expected a (in, out) kernel and an (out) bias");
    return {kernel.shape(0), kernel.shape(1), std::vector<float>(kernel.begin(), kernel.end()),
            std::vector<float>(bias.begin(), bias.end())};
}

}  // namespace detail

// `weights` in Keras' order: the two feature Dense layers, attention, output.
inline attention_weights read_attention_weights(const std::vector<xt::xarray<float>>& weights) {
    if (weights.size() != 8)
        throw std::invalid_argument(
            "bench: expected the 8 weight arrays of the attention model, "
            "got " +
            std::to_string(weights.size()));
    attention_weights w{
        detail::read_dense(weights, 0, "features1"), detail::read_dense(weights, 1, "features2"),
        detail::read_dense(weights, 2, "attention"), detail::read_dense(weights, 3, "output")};
    const std::size_t width = w.features1.out + w.features2.out;
    if (w.attention.in != width || w.attention.out != width || w.output.in != 1 ||
        w.output.out != 1)
        throw std::invalid_argument("bench: the weights do not form the attention model (width " +
                                    std::to_string(width) + ")");
    return w;
}

}  // namespace bench
