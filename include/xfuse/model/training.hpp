// Model::fit and Model::evaluate's data side: inputs given as one batch or a tuple of batches
// (std::tie(a, b)), labels as an (N, units) tensor, everything checked (shapes, sample counts,
// finiteness, the layers' input checks, the options) before a single weight changes; then
// train/fit.hpp's loop.
#pragma once

#include <array>
#include <cstddef>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "../graph/input_checks.hpp"
#include "../graph/layer_bindings.hpp"
#include "../train/fit.hpp"
#include "batch_io.hpp"

namespace xfuse::detail {

template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};

// fit(x, ...) with one input takes the batch itself; with several, a tuple of batches.
template <std::size_t InputCount, class X>
auto as_batch_tuple(const X& x) {
    if constexpr (is_tuple<X>::value) {
        static_assert(std::tuple_size_v<X> == InputCount,
                      "xfuse::Model::fit/evaluate: give one batch per model input, as "
                      "std::tie(a, b)");
        return std::apply([](const auto&... b) { return std::tie(b...); }, x);
    } else {
        static_assert(InputCount == 1,
                      "xfuse::Model::fit/evaluate: a model with several inputs takes them as "
                      "std::tie(a, b)");
        return std::tie(x);
    }
}

// The labels' width the loss expects: the output's units, or 1 for sparse class indices.
template <class OutputShape>
std::size_t expected_label_columns(const any_loss& loss) {
    return std::holds_alternative<SparseCategoricalCrossentropy>(loss) ? 1 : OutputShape::last;
}

template <class Graph>
struct prepared_data {
    static constexpr std::size_t input_count = Graph::inputs::size;
    // References to row-major float batches, or converted copies.
    std::vector<xt::xarray<float>> copies;
    training_data<input_count> data{};
    std::array<std::size_t, input_count> sizes{};
};

// Checks everything about (x, y) and returns flat views of them.
template <class Graph, class Batches>
prepared_data<Graph> prepare(std::string_view what, const Batches& batches,
                             const xt::xtensor<float, 2>& y, const any_loss& loss) {
    using inputs = typename Graph::inputs;
    using output = at_t<0, typename Graph::outputs>;
    prepared_data<Graph> prepared;
    prepared.copies.reserve(inputs::size);
    std::array<std::size_t, inputs::size> samples{};
    std::array<std::string_view, inputs::size> names{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                using input = at_t<I, inputs>;
                using shape = typename input::shape_type;
                const std::string_view name =
                    Graph::names[Graph::template layer_index<input>].view();
                const auto& batch = std::get<I>(batches);
                names[I] = name;
                samples[I] = checked_samples<shape>(what, name, batch);
                const float* data;
                if constexpr (is_row_major_float_container<std::remove_cvref_t<decltype(batch)>>())
                    data = batch.data();
                else
                    data = prepared.copies.emplace_back(xt::cast<float>(batch)).data();
                check_finite(std::span(data, samples[I] * shape::size),
                             "xfuse: " + std::string(what) + ": input '" + std::string(name) + "'");
                check_input_batch<Graph, input>(data, samples[I]);
                prepared.data.inputs[I] = data;
                prepared.sizes[I] = shape::size;
            }(),
            ...);
    }
    (std::make_index_sequence<inputs::size>{});
    common_samples(what, names, samples);
    const std::string output_name(
        Graph::names[Graph::template layer_index<typename output::layer_type>].view());
    const std::size_t label_columns = expected_label_columns<typename output::shape_type>(loss);
    if (y.shape()[0] != samples[0] || y.shape()[1] != label_columns)
        throw_shape_mismatch(
            std::string(what) + " labels y for output '" + output_name + "'",
            "(" + std::to_string(samples[0]) + ", " + std::to_string(label_columns) + ")",
            actual_shape_string(y));
    check_finite(std::span(y.data(), y.size()),
                 "xfuse: " + std::string(what) + ": labels y for output '" + output_name + "'");
    prepared.data.labels = y.data();
    prepared.data.label_cols = label_columns;
    prepared.data.samples = samples[0];
    return prepared;
}

// Copies of every weight (for EarlyStopping's restore_best_weights).
template <class Graph>
training_control control_for(const std::array<float*, Graph::layer_count>& params) {
    training_control control;
    control.snapshot_weights = [&params] {
        weights_snapshot snapshot;
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (snapshot.emplace_back(params[L], params[L] + Graph::template storage_of_layer<L>),
             ...);
        }
        (std::make_index_sequence<Graph::layer_count>{});
        return snapshot;
    };
    control.restore_weights = [&params](const weights_snapshot& snapshot) {
        for (std::size_t l = 0; l < Graph::layer_count; ++l)
            std::copy(snapshot[l].begin(), snapshot[l].end(), params[l]);
    };
    return control;
}

template <class Graph, class X>
History fit_model(const layer_bindings<Graph>& layers, training_config& config,
                  std::vector<optimizer_state>& states, const X& x, const xt::xtensor<float, 2>& y,
                  const FitOptions& options, std::ostream& os) {
    options.validate();
    const auto batches = as_batch_tuple<Graph::inputs::size>(x);
    const prepared_data<Graph> prepared = prepare<Graph>("Model::fit", batches, y, config.loss);
    trainer<Graph> t(layers, config, states, std::min(options.batch_size, prepared.data.samples));
    t.prepare_optimizer_states();
    training_control control = control_for<Graph>(layers.weights);
    return fit_loop(t, config, prepared.data, prepared.sizes, options, control, os);
}

template <class Graph, class X>
std::vector<double> evaluate_model(const layer_bindings<Graph>& layers, training_config& config,
                                   std::vector<optimizer_state>& states, const X& x,
                                   const xt::xtensor<float, 2>& y, std::size_t batch_size) {
    if (batch_size == 0)
        throw std::invalid_argument("xfuse: Model::evaluate: batch_size must be >= 1, got 0");
    const auto batches = as_batch_tuple<Graph::inputs::size>(x);
    const prepared_data<Graph> prepared =
        prepare<Graph>("Model::evaluate", batches, y, config.loss);
    trainer<Graph> t(layers, config, states, std::min(batch_size, prepared.data.samples));
    return evaluate_batches(t, config.metrics, prepared.data);
}

}  // namespace xfuse::detail
