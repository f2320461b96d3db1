// Symbolic tensors: values whose type records which layer made them from which inputs.
// `auto x = Concatenate{}(x1, x2);` costs nothing at run time; the graph lives in the type. A
// tensor also carries the values of the layers behind it, so that a model built on it takes
// their runtime options (LayerNormalization's epsilon, Dropout's rate); for layers without
// options (most) these are empty and the tensor is an empty value.
#pragma once

#include <concepts>
#include <tuple>

#include "shape.hpp"
#include "type_list.hpp"

namespace xfuse {

// The output of `Layer` applied to the symbolic tensors `Inputs...` (one Keras node).
template <class Layer, class... Inputs>
struct node {
    using layer_type = Layer;
    using inputs = type_list<Inputs...>;
    using shape_type = typename Layer::template output_shape<typename Inputs::shape_type...>;

    [[no_unique_address]] Layer layer{};
    [[no_unique_address]] std::tuple<Inputs...> input_values{};
};

template <class T>
concept SymbolicTensor = requires {
    typename T::layer_type;
    typename T::inputs;
    typename T::shape_type;
}
&&Shape<typename T::shape_type>;

// An input tensor is its own layer (Keras' InputLayer with its single node).
template <class T>
concept InputTensor = SymbolicTensor<T> && std::same_as<typename T::layer_type, T>;

}  // namespace xfuse
