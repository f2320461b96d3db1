// Which built-in kind a layer declares, for the execution plans' pattern matching (exec/): the
// fused forward and backward plans and the trainer's logits path look for Dense-, Activation-,
// Dot- and Concatenate-like layers by these. A layer declares its kind by deriving from
// dense_kind, activation_kind, dot_kind or concatenate_kind (the built-in layers do), which gives
// it a nested `layer_kind`; wrappers that derive from a layer (Sequential's positions, user
// subclasses) inherit it, so names, tags and positions never hide what a layer is. The plans then
// compute the layer with the kind's own kernels, so a subclass that changes what its base computes
// declares `using layer_kind = void;`.
#pragma once

#include <cstddef>
#include <type_traits>

#include "activation.hpp"
#include "concatenate.hpp"
#include "dense.hpp"
#include "dot.hpp"
#include "layer.hpp"

namespace xfuse {

namespace detail {

template <class Kind>
inline constexpr bool is_dense_kind = false;
template <std::size_t Units, class Activation, bool UseBias>
inline constexpr bool is_dense_kind<dense_kind<Units, Activation, UseBias>> = true;
template <class Kind>
inline constexpr bool is_activation_kind = false;
template <class Activation>
inline constexpr bool is_activation_kind<activation_kind<Activation>> = true;
template <class Kind>
inline constexpr bool is_dot_kind = false;
template <int Axes, bool Normalize>
inline constexpr bool is_dot_kind<dot_kind<Axes, Normalize>> = true;
template <class Kind>
inline constexpr bool is_concatenate_kind = false;
template <int Axis>
inline constexpr bool is_concatenate_kind<concatenate_kind<Axis>> = true;

}  // namespace detail

// The kind a layer declares, or void.
template <class L>
struct layer_kind_of {
    using type = void;
};
template <class L>
requires requires {
    typename L::layer_kind;
}
struct layer_kind_of<L> {
    using type = typename L::layer_kind;
};
template <class L>
using layer_kind_t = typename layer_kind_of<L>::type;

template <class L>
concept DenseLayer = Layer<L> && detail::is_dense_kind<layer_kind_t<L>>;
template <class L>
concept ActivationLayer = Layer<L> && detail::is_activation_kind<layer_kind_t<L>>;
template <class L>
concept DotLayer = Layer<L> && detail::is_dot_kind<layer_kind_t<L>>;
template <class L>
concept ConcatenateLayer = Layer<L> && detail::is_concatenate_kind<layer_kind_t<L>>;

// A Dense-like layer whose activation is `Activation` (softmax_t, sigmoid_t, ...).
template <class L, class Activation>
concept DenseLayerWith =
    DenseLayer<L> && std::is_same_v<typename layer_kind_t<L>::activation_type, Activation>;

// A layer whose output is `Activation` applied to a pre-activation the trainer can recover
// (Keras' `_keras_logits`): a Dense-like layer's x W + b, an activation layer's input.
template <class L, class Activation>
concept AppliesActivation =
    (DenseLayer<L> ||
     ActivationLayer<L>)&&std::is_same_v<typename layer_kind_t<L>::activation_type, Activation>;

}  // namespace xfuse
