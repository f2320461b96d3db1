// xf::Sequential<Input, Layers...>: Keras' Sequential model as a type list.
//
//   xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>> model;
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

}  // namespace detail

template <class In, class... Layers>
class Sequential : public Model<input_list<void, In>,
                                typename detail::sequential_chain<In, 1, Layers...>::type> {
    static_assert(InputTensor<In>, "xfuse::Sequential: the first entry must be an xf::Input<...>");
    static_assert(sizeof...(Layers) >= 1, "xfuse::Sequential: add at least one layer");

  public:
    // Keras' Sequential lists no InputLayer in model.layers or the summary.
    // Every position holds its layer's default value (Keras' defaults of its options).
    Sequential()
        : Sequential::Model(nullptr, "sequential", /*show_inputs=*/false,
                            typename detail::sequential_chain<In, 1, Layers...>::type{}) {}
};

}  // namespace xfuse
