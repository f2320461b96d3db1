// graph<Inputs, Outputs, NamingRoot>: everything static about a model, from its types.
// Nodes in topological order, layers in Keras' order with their names, shapes, weights and
// connections, and the checks that a set of layers forms a valid model.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/shape.hpp"
#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"
#include "../layers/layer.hpp"
#include "naming.hpp"
#include "traversal.hpp"

namespace xfuse {

namespace detail {

template <std::size_t K>
constexpr bool same_weight_shapes(const std::array<weight_spec, K>& a,
                                  const std::array<weight_spec, K>& b) {
    for (std::size_t i = 0; i < K; ++i)
        if (a[i].rank != b[i].rank || a[i].dims != b[i].dims)
            return false;
    return true;
}

// A layer applied twice shares its weights, so both applications must imply the same weight
// shapes. The input shapes of both applications sit in the template arguments, so that the
// diagnostic names them.
template <class Layer, class FirstInputs, class OtherInputs>
constexpr bool shared_layer_inputs_agree() {
    constexpr bool agree = []<class... A, class... B>(type_list<A...>, type_list<B...>) {
        constexpr auto first = Layer::template weights<typename A::shape_type...>;
        constexpr auto other = Layer::template weights<typename B::shape_type...>;
        if constexpr (first.size() != other.size())
            return false;
        else
            return same_weight_shapes(first, other);
    }(FirstInputs{}, OtherInputs{});
    static_assert(agree,
                  "xfuse: a layer object applied twice must see inputs that give it the same "
                  "weight shapes (its weights are shared); create a second layer object instead");
    return agree;
}

}  // namespace detail

template <class Inputs, class Outputs, class NamingRoot = void>
struct graph;

template <class... In, class... Out, class NamingRoot>
struct graph<type_list<In...>, type_list<Out...>, NamingRoot> {
    static_assert(sizeof...(In) >= 1, "xfuse::Model: a model needs at least one input");
    static_assert(sizeof...(Out) >= 1, "xfuse::Model: a model needs at least one output");
    static_assert((InputTensor<In> && ...),
                  "xfuse::Model: inputs(...) takes Input tensors (xf::Input<...>) only");
    static_assert((SymbolicTensor<Out> && ...),
                  "xfuse::Model: outputs must be symbolic tensors made by layers");

    using inputs = type_list<In...>;
    using outputs = type_list<Out...>;
    using searched = typename detail::search_graph<inputs, outputs>::type;
    using nodes = typename searched::nodes;
    using topology = detail::topology<nodes, typename searched::layers>;
    using layers = typename topology::ordered_layers;

    static constexpr std::size_t node_count = nodes::size;
    static constexpr std::size_t layer_count = layers::size;

    template <std::size_t N>
    using node_t = at_t<N, nodes>;
    template <std::size_t L>
    using layer_t = at_t<L, layers>;

    template <class Node>
    static constexpr std::size_t node_index = index_of_v<nodes, Node>;
    template <class Layer>
    static constexpr std::size_t layer_index = index_of_v<layers, Layer>;

    // Per node: its layer's position in `layers`, and its rank among that layer's nodes
    // (Keras' node_index in "Connected to": 'dense[0][0]').
    static constexpr std::array<std::size_t, node_count> node_layer =
        []<class... N>(type_list<N...>) {
            return std::array<std::size_t, node_count>{layer_index<typename N::layer_type>...};
        }(nodes{});
    static constexpr std::array<std::size_t, node_count> node_rank_in_layer = [] {
        std::array<std::size_t, node_count> rank{};
        for (std::size_t n = 0; n < node_count; ++n)
            for (std::size_t m = 0; m < n; ++m)
                rank[n] += node_layer[m] == node_layer[n];
        return rank;
    }();
    // Per layer: its first node, which fixes its weights' shapes.
    static constexpr std::array<std::size_t, layer_count> first_node = [] {
        std::array<std::size_t, layer_count> first{};
        for (std::size_t n = node_count; n-- > 0;)
            first[node_layer[n]] = n;
        return first;
    }();
    // Per node: how many input slots of the graph's nodes read it (the execution plans fuse a
    // node into its consumer only when nothing else reads it).
    static constexpr std::array<std::size_t, node_count> node_readers = [] {
        std::array<std::size_t, node_count> readers{};
        for (std::size_t n = 0; n < node_count; ++n)
            for (std::size_t i = 0; i < topology::fan_in[n]; ++i)
                ++readers[topology::node_inputs[n][i]];
        return readers;
    }();
    static constexpr std::array<std::size_t, layer_count> node_count_of_layer = [] {
        std::array<std::size_t, layer_count> count{};
        for (std::size_t n = 0; n < node_count; ++n)
            ++count[node_layer[n]];
        return count;
    }();

    static constexpr std::array<bool, layer_count> is_input_layer =
        []<class... L>(type_list<L...>) {
            return std::array<bool, layer_count>{InputTensor<L>...};
        }(layers{});

    // Every Input an output depends on must be one of the model's inputs.
    static constexpr bool inputs_complete = []<class... N>(type_list<N...>) {
        return ((!InputTensor<N> || contains_v<inputs, N>)&&...);
    }(nodes{});
    static_assert(inputs_complete,
                  "xfuse::Model: an output depends on an Input missing from the model's inputs");

    // ---- weights ----------------------------------------------------------------------------
    template <std::size_t L>
    static constexpr auto weights = node_weights<node_t<first_node[L]>>::value;

    static constexpr bool shared_weights_agree = []<class... N>(type_list<N...>) {
        return (detail::shared_layer_inputs_agree<
                    typename N::layer_type,
                    typename node_t<first_node[layer_index<typename N::layer_type>]>::inputs,
                    typename N::inputs>() &&
                ...);
    }(nodes{});
    static_assert(shared_weights_agree);

    template <std::size_t L>
    static constexpr std::size_t parameters_of_layer = total_size(weights<L>);
    template <std::size_t L>
    static constexpr std::size_t storage_of_layer = total_storage(weights<L>);

    // ---- names ------------------------------------------------------------------------------
    using naming_layers = typename detail::naming_order<NamingRoot, layers>::type;
    static constexpr auto naming_names = detail::default_names(naming_layers{});
    static constexpr std::array<detail::layer_name, layer_count> names =
        []<class... L>(type_list<L...>) {
            return std::array<detail::layer_name, layer_count>{
                naming_names[index_of_v<naming_layers, L>]...};
        }(layers{});
    static_assert(detail::names_unique(names),
                  "xfuse::Model: two layers share a name; layer names must be unique");

    static constexpr std::size_t find_layer(std::string_view name) {
        for (std::size_t i = 0; i < layer_count; ++i)
            if (names[i].view() == name)
                return i;
        return layer_count;
    }

    // Keras' print_summary: a functional model is drawn like a Sequential one (no "Connected
    // to") when every depth holds one node with at most one input and no layer is reused.
    static constexpr bool sequential_like = [] {
        for (std::size_t n = 0; n < node_count; ++n) {
            if (topology::fan_in[n] > 1 || node_count_of_layer[node_layer[n]] > 1)
                return false;
            for (std::size_t m = 0; m < node_count; ++m)
                if (m != n && topology::node_depth[m] == topology::node_depth[n])
                    return false;
        }
        return true;
    }();
};

}  // namespace xfuse
