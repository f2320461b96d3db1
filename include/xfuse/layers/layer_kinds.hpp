// Which built-in layer a layer type is, for the execution plans' pattern matching (exec/): the
// fused forward and backward plans and the trainer's logits path look for Dense, Dot and
// Concatenate by these, whatever their names and tags.
#pragma once

#include <cstddef>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "concatenate.hpp"
#include "dense.hpp"
#include "dot.hpp"

namespace xfuse::detail {

template <class Layer>
inline constexpr bool is_dense_layer = false;
template <std::size_t Units, auto Act, fixed_string Name, bool UseBias, class Tag>
inline constexpr bool is_dense_layer<Dense<Units, Act, Name, UseBias, Tag>> = true;

// A Dense whose activation is `Activation` (softmax_t, sigmoid_t, ...).
template <class Layer, class Activation>
constexpr bool is_dense_with() {
    if constexpr (is_dense_layer<Layer>)
        return std::is_same_v<typename Layer::activation_type, Activation>;
    else
        return false;
}

// Dot without normalisation, and its Keras axes.
template <class Layer>
inline constexpr bool is_plain_dot_layer = false;
template <int Axes, fixed_string Name, class Tag>
inline constexpr bool is_plain_dot_layer<Dot<Axes, false, Name, Tag>> = true;
template <class Layer>
inline constexpr int dot_axes = 0;
template <int Axes, bool Normalize, fixed_string Name, class Tag>
inline constexpr int dot_axes<Dot<Axes, Normalize, Name, Tag>> = Axes;

template <class Layer>
inline constexpr bool is_concatenate_layer = false;
template <int Axis, fixed_string Name, class Tag>
inline constexpr bool is_concatenate_layer<Concatenate<Axis, Name, Tag>> = true;
template <class Layer>
inline constexpr int concatenate_axis = 0;
template <int Axis, fixed_string Name, class Tag>
inline constexpr int concatenate_axis<Concatenate<Axis, Name, Tag>> = Axis;

}  // namespace xfuse::detail
