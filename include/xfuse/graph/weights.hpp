// get_weights / set_weights in Keras' order (layers in model order; per layer its weights in
// declaration order: kernel (in, out), then bias), converting to and from padded storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "../core/errors.hpp"
#include "../layers/layer.hpp"
#include "parameters.hpp"

namespace xfuse::detail {

inline xt::xarray<float> read_weight(const weight_spec& w, const float* storage) {
    xt::xarray<float> value(std::vector<std::size_t>(w.dims.begin(), w.dims.begin() + w.rank));
    for (std::size_t r = 0; r < w.rows(); ++r)
        std::copy_n(storage + r * w.row_stride(), w.last(), value.data() + r * w.last());
    return value;
}

inline void write_weight(const weight_spec& w, const xt::xarray<float>& value, float* storage) {
    for (std::size_t r = 0; r < w.rows(); ++r)
        std::copy_n(value.data() + r * w.last(), w.last(), storage + r * w.row_stride());
}

inline bool shape_matches(const weight_spec& w, const xt::xarray<float>& value) {
    if (value.dimension() != w.rank)
        return false;
    for (std::size_t i = 0; i < w.rank; ++i)
        if (value.shape()[i] != w.dims[i])
            return false;
    return true;
}

inline constexpr std::size_t all_layers = ~std::size_t{0};

// Calls f(layer index, weight_spec, storage) for every weight of the graph in Keras' order, or
// of one layer only.
template <class Graph, class F>
void for_each_weight(const std::array<float*, Graph::layer_count>& params, std::size_t only,
                     F&& f) {
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        auto layer = [&]<std::size_t Layer>() {
            if (only != all_layers && only != Layer)
                return;
            float* storage = params[Layer];
            for (const weight_spec& w : Graph::template weights<Layer>) {
                f(Layer, w, storage);
                storage += w.storage();
            }
        };
        (layer.template operator()<L>(), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
}

template <class Graph>
std::vector<xt::xarray<float>> get_weights(const std::array<float*, Graph::layer_count>& params,
                                           std::size_t only = all_layers) {
    std::vector<xt::xarray<float>> weights;
    for_each_weight<Graph>(params, only,
                           [&](std::size_t, const weight_spec& w, const float* storage) {
                               weights.push_back(read_weight(w, storage));
                           });
    return weights;
}

template <class Graph>
void set_weights(const std::array<float*, Graph::layer_count>& params,
                 const std::vector<xt::xarray<float>>& weights, std::size_t only = all_layers) {
    std::size_t expected = 0;
    for_each_weight<Graph>(
        params, only, [&](std::size_t layer, const weight_spec& w, const float*) {
            if (expected < weights.size() && !shape_matches(w, weights[expected]))
                throw_shape_mismatch(
                    "set_weights: weight " + std::to_string(expected) + " ('" +
                        std::string(Graph::names[layer].view()) + "/" + std::string(w.name) + "')",
                    tuple_string(w.dims, w.rank), actual_shape_string(weights[expected]));
            ++expected;
        });
    if (weights.size() != expected)
        throw std::invalid_argument("xfuse: set_weights: expected " + std::to_string(expected) +
                                    " weight arrays, got " + std::to_string(weights.size()));
    std::size_t next = 0;
    for_each_weight<Graph>(params, only, [&](std::size_t, const weight_spec& w, float* storage) {
        write_weight(w, weights[next++], storage);
    });
}

template <class Graph>
void initialize_weights(const std::array<float*, Graph::layer_count>& params, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (initialize_layer(Graph::template weights<L>, params[L], engine), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
}

}  // namespace xfuse::detail
