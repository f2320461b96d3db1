// What a layer's nodes in one graph say together: a text per node (its shape, say) that names
// the layer when all its nodes agree, as Keras' layer.output_shape does for a shared layer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "../core/shape.hpp"
#include "../core/symbolic.hpp"

namespace xfuse::detail {

// make.template operator()<Node>() for each node of layer L; the common text, or `differ` when
// two nodes give different texts.
template <class Graph, std::size_t L, class Make>
std::string agreed_node_text(Make make, std::string_view differ) {
    std::string text;
    bool differs = false;
    [&]<std::size_t... N>(std::index_sequence<N...>) {
        auto visit = [&]<std::size_t Node>() {
            if (Graph::node_layer[Node] != L)
                return;
            const std::string s = make.template operator()<typename Graph::template node_t<Node>>();
            differs |= !text.empty() && s != text;
            text = s;
        };
        (visit.template operator()<N>(), ...);
    }
    (std::make_index_sequence<Graph::node_count>{});
    return differs ? std::string(differ) : text;
}

// Keras' layer.output_shape as text: "(None, 32)", a list for an InputLayer ("[(None, 10)]"),
// `differ` for a layer whose nodes in this graph have different shapes.
template <class Graph, std::size_t L>
std::string layer_output_shape_text(std::string_view differ) {
    return agreed_node_text<Graph, L>(
        []<class Node>() {
            const std::string shape = shape_string<typename Node::shape_type>();
            return InputTensor<typename Graph::template layer_t<L>> ? "[" + shape + "]" : shape;
        },
        differ);
}

}  // namespace xfuse::detail
