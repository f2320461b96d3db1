// The layers' input checks (check_input, layers/layer.hpp) for one model input: every node that
// reads that Input and whose layer declares a check runs it on the user's batch. The model calls
// this before anything is computed, in predict, the single-sample call, fit and evaluate.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"

namespace xfuse {

// A layer that declares check_input for these input shapes.
template <class L, class... In>
concept ChecksInput = requires(const float* batch, std::size_t n, std::string_view layer) {
    L::template check_input<In...>(n, batch, n, layer);
};

namespace detail {

template <class Node, class Inputs = typename Node::inputs>
struct node_checks_input;
template <class Node, class... In>
struct node_checks_input<Node, type_list<In...>> {
    static constexpr bool value =
        ChecksInput<typename Node::layer_type, typename In::shape_type...>;
    // The check sees what the user passed only where the layer reads model inputs.
    static_assert(!value || (InputTensor<In> && ...),
                  "xfuse: a layer that checks its input (check_input, such as Embedding's token "
                  "ids) must be applied to model Inputs directly");
};

template <class Node>
inline constexpr bool node_checks_input_v = node_checks_input<Node>::value;

// Runs node N's check on `batch` for each of its input slots that is `Input`.
template <class Graph, class Input, class Node, class... In>
void run_node_checks(const float* batch, std::size_t samples, type_list<In...>) {
    if constexpr (node_checks_input_v<Node>) {
        constexpr std::string_view layer =
            Graph::names[Graph::template layer_index<typename Node::layer_type>].view();
        std::size_t slot = 0;
        (
            [&] {
                if constexpr (std::is_same_v<In, Input>)
                    Node::layer_type::template check_input<typename In::shape_type...>(
                        slot, batch, samples, layer);
                ++slot;
            }(),
            ...);
    }
}

}  // namespace detail

// Whether any layer of the graph checks its inputs (the single-sample call is then not noexcept).
template <class Graph>
inline constexpr bool checks_inputs = []<class... N>(type_list<N...>) {
    return (detail::node_checks_input_v<N> || ...);
}(typename Graph::nodes{});

// The checks of every layer reading model input `Input`, on `samples` unpadded samples.
template <class Graph, class Input>
void check_input_batch(const float* batch, std::size_t samples) {
    if constexpr (checks_inputs<Graph>)
        []<class... N>(const float* b, std::size_t n, type_list<N...>) {
            (detail::run_node_checks<Graph, Input, N>(b, n, typename N::inputs{}), ...);
        }(batch, samples, typename Graph::nodes{});
}

}  // namespace xfuse
