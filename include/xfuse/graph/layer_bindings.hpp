// What the execution plans read of each layer of a graph: its weights, and its value when it
// holds runtime options (layers/layer.hpp). A model fills one of these from its parameter store
// (graph/parameters.hpp); layers without options are empty types and are not stored.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"
#include "../layers/layer.hpp"

namespace xfuse {

template <class Graph>
struct layer_bindings {
    std::array<float*, Graph::layer_count> weights{};
    std::array<const void*, Graph::layer_count> values{};  // null for layers without options
    call_context context{};  // predict's unless a training step sets it

    // The context of one layer's call: its own stream of random decisions.
    template <class Layer>
    call_context context_of() const noexcept {
        call_context c = context;
        c.layer = Graph::template layer_index<Layer>;
        return c;
    }

    template <class Layer>
    static constexpr bool stored = !std::is_empty_v<Layer>;

    // The layer the plans call forward and backward on.
    template <class Layer>
    decltype(auto) layer() const noexcept {
        if constexpr (stored<Layer>)
            return *static_cast<const Layer*>(values[Graph::template layer_index<Layer>]);
        else
            return Layer{};
    }
};

namespace detail {

// Whether the graph behind tensor N holds a node of layer L.
template <class L, class N>
constexpr bool made_with() {
    if constexpr (std::is_same_v<typename N::layer_type, L>)
        return true;
    else
        return []<class... In>(type_list<In...>) {
            return (made_with<L, In>() || ...);
        }(typename N::inputs{});
}

template <class L, class N>
const L* search_value(const N& n) noexcept;

// The value of layer L as tensor n carries it: the first node of L on the path to it.
template <class L, class N>
const L& layer_value(const N& n) noexcept {
    static_assert(made_with<L, N>());
    if constexpr (InputTensor<N>)
        return n;
    else if constexpr (std::is_same_v<typename N::layer_type, L>)
        return n.layer;
    else
        return std::apply(
            []<class... In>(const In&... in) -> const L& {
                const L* found = nullptr;
                ((found = found ? found : search_value<L>(in)), ...);
                return *found;
            },
            n.input_values);
}

// layer_value where the tensor may not hold L.
template <class L, class N>
const L* search_value(const N& n) noexcept {
    if constexpr (made_with<L, N>())
        return &layer_value<L>(n);
    else
        return nullptr;
}

// The value of layer L from the first of `outputs` whose graph holds it.
template <class L, class... Outputs>
const L& layer_value_in(const Outputs&... outputs) noexcept {
    static_assert((made_with<L, Outputs>() || ...));
    const L* found = nullptr;
    ((found = found ? found : search_value<L>(outputs)), ...);
    return *found;
}

}  // namespace detail

}  // namespace xfuse
