// The graph behind a model's outputs, computed from types alone: its nodes in topological order
// and its layers in Keras' order (model.layers: by decreasing depth, ties by first visit of a
// depth-first search from the outputs; keras/engine/functional.py, _map_graph_network).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"

namespace xfuse::detail {

// ---- depth-first search over node types ----------------------------------------------------
// Nodes are recorded after their inputs (post-order: a topological order); layers when first
// reached (pre-order: Keras' layer_indices).
template <class Nodes, class Layers>
struct search_state {
    using nodes = Nodes;
    using layers = Layers;
};

template <class State, class Node, bool Seen = contains_v<typename State::nodes, Node>>
struct visit;

template <class State, class List>
struct visit_all;
template <class State>
struct visit_all<State, type_list<>> {
    using type = State;
};
template <class State, class First, class... Rest>
struct visit_all<State, type_list<First, Rest...>> {
    using type = typename visit_all<typename visit<State, First>::type, type_list<Rest...>>::type;
};

template <class State, class Node>
struct visit<State, Node, true> {
    using type = State;
};
template <class Nodes, class Layers, class Node>
struct visit<search_state<Nodes, Layers>, Node, false> {
    using layers_seen = typename push_back_unique<Layers, typename Node::layer_type>::type;
    using after_inputs =
        typename visit_all<search_state<Nodes, layers_seen>, typename Node::inputs>::type;
    using type = search_state<typename push_back_unique<typename after_inputs::nodes, Node>::type,
                              typename after_inputs::layers>;
};

// Declared inputs that no output depends on still belong to the model (Keras keeps them, at
// depth 0 and ahead of every visited layer: layer_indices[input] = -1).
template <class State, class Inputs>
struct add_unreached_inputs;
template <class State>
struct add_unreached_inputs<State, type_list<>> {
    using type = State;
};
template <class Nodes, class... Layers, class First, class... Rest>
struct add_unreached_inputs<search_state<Nodes, type_list<Layers...>>, type_list<First, Rest...>> {
    static constexpr bool reached = contains_v<Nodes, First>;
    using state = search_state<
        std::conditional_t<reached, Nodes, typename push_back_unique<Nodes, First>::type>,
        std::conditional_t<reached, type_list<Layers...>, type_list<First, Layers...>>>;
    using type = typename add_unreached_inputs<state, type_list<Rest...>>::type;
};

// All nodes (topological order) and layers (first-visit order) of the graph from Inputs to
// Outputs, both type_lists.
template <class Inputs, class Outputs>
struct search_graph {
    using reached = typename visit_all<search_state<type_list<>, type_list<>>, Outputs>::type;
    using type = typename add_unreached_inputs<reached, Inputs>::type;
};

// ---- Keras' layer order ---------------------------------------------------------------------
template <class Nodes, class Layers>
struct topology;
template <class... Nodes, class... Layers>
struct topology<type_list<Nodes...>, type_list<Layers...>> {
    static constexpr std::size_t node_count = sizeof...(Nodes);
    static constexpr std::size_t layer_count = sizeof...(Layers);
    static constexpr std::size_t max_fan_in = std::max({std::size_t{1}, Nodes::inputs::size...});

    static constexpr std::array<std::size_t, node_count> node_layer{
        index_of_v<type_list<Layers...>, typename Nodes::layer_type>...};

    template <class Node>
    static constexpr std::array<std::size_t, max_fan_in> input_indices() {
        return []<class... In>(type_list<In...>) {
            return std::array<std::size_t, max_fan_in>{index_of_v<type_list<Nodes...>, In>...};
        }(typename Node::inputs{});
    }
    static constexpr std::array<std::array<std::size_t, max_fan_in>, node_count> node_inputs{
        input_indices<Nodes>()...};
    static constexpr std::array<std::size_t, node_count> fan_in{Nodes::inputs::size...};

    // Output nodes have depth 0; a node's inputs are one deeper than their deepest consumer; a
    // shared layer takes the depth of its deepest node (functional.py, L1095-1120 in v2.15).
    static constexpr auto depths = [] {
        std::array<std::size_t, node_count> node_depth{};
        std::array<std::size_t, layer_count> layer_depth{};
        for (std::size_t n = node_count; n-- > 0;) {
            const std::size_t layer = node_layer[n];
            const std::size_t depth = std::max(node_depth[n], layer_depth[layer]);
            layer_depth[layer] = depth;
            node_depth[n] = depth;
            for (std::size_t i = 0; i < fan_in[n]; ++i) {
                std::size_t& parent = node_depth[node_inputs[n][i]];
                parent = std::max(parent, depth + 1);
            }
        }
        return std::pair{node_depth, layer_depth};
    }();
    static constexpr std::array<std::size_t, node_count> node_depth = depths.first;
    static constexpr std::array<std::size_t, layer_count> layer_depth = depths.second;

    // Indices into Layers... (which is in first-visit order), deepest first.
    static constexpr std::array<std::size_t, layer_count> layer_order = [] {
        // Insertion sort: stable, and std::stable_sort is not constexpr.
        std::array<std::size_t, layer_count> order{};
        for (std::size_t i = 0; i < layer_count; ++i) {
            std::size_t j = i;
            for (; j > 0 && layer_depth[order[j - 1]] < layer_depth[i]; --j)
                order[j] = order[j - 1];
            order[j] = i;
        }
        return order;
    }();

    using ordered_layers = decltype([]<std::size_t... I>(std::index_sequence<I...>) {
        return type_list<at_t<layer_order[I], type_list<Layers...>>...>{};
    }(std::make_index_sequence<layer_count>{}));
};

}  // namespace xfuse::detail
