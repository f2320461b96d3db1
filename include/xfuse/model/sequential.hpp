// xf::Sequential<Input, Layers...>: Keras' Sequential model as a type list, or from layer values
// where layers have runtime options (the types are deduced from the values):
//
//   xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>> model;
//   xf::Sequential tokens{xf::Input<4, 8>{}, xf::LayerNormalization{{.epsilon = 1e-6f}},
//                         xf::Dropout{0.1f}, xf::Dense<2, xf::softmax>{}};
//
// Each position is its own layer, even where two positions spell the same type
// (using D = xf::Dense<4>; Sequential<Input<3>, D, D> has two Dense layers).
#pragma once

#include <cstddef>

#include "model.hpp"

namespace xfuse {

// A layer at a position of a Sequential: the position is part of its identity. Deriving keeps
// everything the layer declares, its kind (layers/layer_kinds.hpp) included, so the position is
// fused and trained as the layer itself would be.
template <std::size_t Position, class Layer>
struct sequential_slot : Layer {};

namespace detail {

template <class Previous, std::size_t Position, class... Layers>
struct sequential_chain {
    using type = Previous;
};
template <class Previous, std::size_t Position, class Layer, class... Rest>
struct sequential_chain<Previous, Position, Layer, Rest...> {
    using type = typename sequential_chain<node<sequential_slot<Position, Layer>, Previous>,
                                           Position + 1, Rest...>::type;
};

// The chain's tensor with each position holding the given layer value.
template <std::size_t Position, class Previous>
Previous sequential_values(const Previous& previous) {
    return previous;
}
template <std::size_t Position, class Previous, class Layer, class... Rest>
auto sequential_values(const Previous& previous, const Layer& layer, const Rest&... rest) {
    using slot = sequential_slot<Position, Layer>;
    return sequential_values<Position + 1>(node<slot, Previous>{slot{layer}, {previous}}, rest...);
}

}  // namespace detail

template <class In, class... Layers>
class Sequential : public Model<input_list<void, In>,
                                typename detail::sequential_chain<In, 1, Layers...>::type> {
    static_assert(InputTensor<In>, "xfuse::Sequential: the first entry must be an xf::Input<...>");
    static_assert(sizeof...(Layers) >= 1, "xfuse::Sequential: add at least one layer");

  public:
    // Keras' Sequential lists no InputLayer in model.layers or the summary.
    // Every position holds its layer's default value (Keras' defaults of its options).
    Sequential() : Sequential(In{}, Layers{}...) {}
    // Every position holds the layer value given for it.
    explicit Sequential(const In& input, const Layers&... layers)
        : Sequential::Model(nullptr, "sequential", /*show_inputs=*/false,
                            detail::sequential_values<1>(input, layers...)) {}
};

}  // namespace xfuse
