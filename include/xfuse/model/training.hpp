// Model::fit and Model::evaluate's data side: inputs given as one batch or a tuple of batches
// (std::tie(a, b)), labels as a tensor of the output's shape with the samples first ((N, units),
// (N, T, C), ...), or of class indices for a sparse loss (the output's shape without its class
// axis, (N, T), as Keras also with a trailing axis of 1: (N, T, 1); (N, 1) for a rank-1 output);
// everything checked (shapes, sample counts, finiteness, class indices, the layers' input checks,
// the options) before a single weight changes; then train/fit.hpp's loop.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
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

// The labels' width the loss expects per position: the output's units, or 1 for sparse class
// indices.
template <class OutputShape>
std::size_t expected_label_columns(const any_loss& loss) {
    return std::holds_alternative<SparseCategoricalCrossentropy>(loss) ? 1 : OutputShape::last;
}

// The label shapes the loss takes for `samples` samples, the first one the one error messages
// name: the output's shape; for class indices, its class axis replaced by 1 or dropped (Keras
// takes both), the replaced form first for a rank-1 output, where the dropped one is (N,).
template <class OutputShape>
std::vector<std::vector<std::size_t>> accepted_label_shapes(std::size_t samples, bool sparse) {
    std::vector<std::size_t> full{samples};
    full.insert(full.end(), OutputShape::dims.begin(), OutputShape::dims.end());
    if (!sparse)
        return {full};
    std::vector<std::size_t> replaced = full, dropped = full;
    replaced.back() = 1;
    dropped.pop_back();
    if (OutputShape::rank == 1)
        return {replaced, dropped};
    return {dropped, replaced};
}

// Checks y's shape against the loss's label shapes, or std::invalid_argument naming both.
template <class OutputShape, class Y>
void check_label_shape(const std::string& what, const Y& y, std::size_t samples, bool sparse) {
    const auto accepted = accepted_label_shapes<OutputShape>(samples, sparse);
    std::string expected;
    for (const std::vector<std::size_t>& shape : accepted) {
        if (y.dimension() == shape.size() &&
            std::equal(shape.begin(), shape.end(), y.shape().begin()))
            return;
        expected += (expected.empty() ? "" : " or ") + tuple_string(shape, shape.size());
    }
    throw_shape_mismatch(what, expected, actual_shape_string(y));
}

// Class indices must be whole numbers in [0, classes): checked before training, so that a bad one
// stops fit() before any step, naming its sample and, for a sequence output, its position.
inline void check_class_indices(const std::string& what, const float* labels, std::size_t samples,
                                std::size_t positions, std::size_t classes) {
    for (std::size_t s = 0; s < samples; ++s)
        for (std::size_t p = 0; p < positions; ++p) {
            const float index = labels[s * positions + p];
            if (index >= 0.0f && index < static_cast<float>(classes) && index == std::floor(index))
                continue;
            std::ostringstream message;  // the index as written: 5, 1.5, -1
            message << "xfuse: " << what << ": sample " << s;
            if (positions > 1)
                message << ", position " << p;
            message << ": class index " << index << " is outside [0, " << classes
                    << ") or not a whole number";
            throw std::invalid_argument(message.str());
        }
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
template <class Graph, class Batches, class Y>
prepared_data<Graph> prepare(std::string_view what, const Batches& batches, const Y& y,
                             const any_loss& loss) {
    using inputs = typename Graph::inputs;
    using output = at_t<0, typename Graph::outputs>;
    using output_shape = typename output::shape_type;
    static_assert(
        xt::is_xexpression<Y>::value,
        "xfuse::Model::fit/evaluate: labels y are an xtensor expression, such as "
        "xt::xtensor<float, 2> (samples, units) or xt::xtensor<float, 3> (samples, T, C)");
    prepared_data<Graph> prepared;
    prepared.copies.reserve(inputs::size + 1);  // the inputs' and the labels' copies stay put
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
    const std::string labels_what =
        std::string(what) + " labels y for output '" + output_name + "'";
    const bool sparse = std::holds_alternative<SparseCategoricalCrossentropy>(loss);
    check_label_shape<output_shape>(labels_what, y, samples[0], sparse);
    const float* labels;
    if constexpr (is_row_major_float_container<Y>())
        labels = y.data();
    else
        labels = prepared.copies.emplace_back(xt::cast<float>(y)).data();
    const std::size_t label_columns = expected_label_columns<output_shape>(loss);
    check_finite(std::span(labels, samples[0] * output_shape::rows * label_columns),
                 "xfuse: " + std::string(what) + ": labels y for output '" + output_name + "'");
    if (sparse)
        check_class_indices(labels_what, labels, samples[0], output_shape::rows,
                            output_shape::last);
    prepared.data.labels = labels;
    prepared.data.label_cols = label_columns;
    prepared.data.label_rows = output_shape::rows;
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

template <class Graph, class X, class Y>
History fit_model(const layer_bindings<Graph>& layers, training_config& config,
                  std::vector<optimizer_state>& states, const X& x, const Y& y,
                  const FitOptions& options, std::ostream& os) {
    options.validate();
    const auto batches = as_batch_tuple<Graph::inputs::size>(x);
    const prepared_data<Graph> prepared = prepare<Graph>("Model::fit", batches, y, config.loss);
    trainer<Graph> t(layers, config, states, std::min(options.batch_size, prepared.data.samples));
    t.prepare_optimizer_states();
    training_control control = control_for<Graph>(layers.weights);
    return fit_loop(t, config, prepared.data, prepared.sizes, options, control, os);
}

template <class Graph, class X, class Y>
std::vector<double> evaluate_model(const layer_bindings<Graph>& layers, training_config& config,
                                   std::vector<optimizer_state>& states, const X& x, const Y& y,
                                   std::size_t batch_size) {
    if (batch_size == 0)
        throw std::invalid_argument("xfuse: Model::evaluate: batch_size must be >= 1, got 0");
    const auto batches = as_batch_tuple<Graph::inputs::size>(x);
    const prepared_data<Graph> prepared =
        prepare<Graph>("Model::evaluate", batches, y, config.loss);
    trainer<Graph> t(layers, config, states, std::min(batch_size, prepared.data.samples));
    return evaluate_batches(t, config.metrics, prepared.data);
}

}  // namespace xfuse::detail
