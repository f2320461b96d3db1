// model.summary(): the rows of a graph, in Keras' layer order, for print_summary.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../core/shape.hpp"
#include "../core/symbolic.hpp"
#include "layer_nodes.hpp"
#include "summary_table.hpp"

namespace xfuse {

namespace detail {

// The "Output Shape" cell: an InputLayer shows a list, as in tf.keras 2.x ([(None, 10)]); a
// layer whose nodes in this model give different shapes shows "multiple".
template <class Graph, std::size_t L>
std::string output_shape_cell() {
    return xfuse::detail::layer_output_shape_text<Graph, L>("multiple");
}

// "Connected to": for every node of the layer, each input as 'layer[node_index][tensor_index]'.
template <class Graph, std::size_t L>
std::vector<std::string> summary_connections() {
    std::vector<std::string> result;
    using topology = typename Graph::topology;
    for (std::size_t n = 0; n < Graph::node_count; ++n) {
        if (Graph::node_layer[n] != L)
            continue;
        for (std::size_t i = 0; i < topology::fan_in[n]; ++i) {
            const std::size_t source = topology::node_inputs[n][i];
            result.push_back(std::string(Graph::names[Graph::node_layer[source]].view()) + "[" +
                             std::to_string(Graph::node_rank_in_layer[source]) + "][0]");
        }
    }
    return result;
}

}  // namespace detail

template <class Graph>
summary_table make_summary_table(std::string model_name, bool show_inputs) {
    summary_table table{std::move(model_name), Graph::sequential_like, {}, 0, 0};
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        auto add = [&]<std::size_t Layer>() {
            using layer = typename Graph::template layer_t<Layer>;
            table.trainable += Graph::template parameters_of_layer<Layer>;
            if (Graph::is_input_layer[Layer] && !show_inputs)
                return;
            table.rows.push_back({std::string(Graph::names[Layer].view()) + " (" +
                                      std::string(layer::class_name) + ")",
                                  detail::output_shape_cell<Graph, Layer>(),
                                  Graph::template parameters_of_layer<Layer>,
                                  detail::summary_connections<Graph, Layer>()});
        };
        (add.template operator()<L>(), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
    return table;
}

}  // namespace xfuse
