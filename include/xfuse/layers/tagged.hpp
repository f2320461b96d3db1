// The layers with an explicit identity tag, for code inside templates.
//
// Every layer's identity normally comes from a defaulted lambda-type template argument, so
// each written xf::Dense<32>{} is a layer of its own. g++ 12 crashes (internal compiler error in
// tsubst) when such a default is substituted inside any template, even a generic lambda. In
// template code, name the layer's identity yourself with a local struct:
//
//   template <std::size_t N> auto block(auto x) {
//       return xf::tagged::Dense<struct hidden, N, xf::relu>{}(x);
//   }
//
// A struct declared in a function template is a new type in every instantiation, so each
// instantiation makes its own layers, as each call of a Keras function would.
#pragma once

#include <cstddef>

#include "activation.hpp"
#include "concatenate.hpp"
#include "dense.hpp"
#include "dot.hpp"
#include "dropout.hpp"
#include "embedding.hpp"
#include "flatten.hpp"
#include "global_average_pooling1d.hpp"
#include "global_max_pooling1d.hpp"
#include "input.hpp"
#include "layer_normalization.hpp"
#include "merge.hpp"
#include "multi_head_attention.hpp"
#include "reshape.hpp"
#include "token_and_position_embedding.hpp"

namespace xfuse::tagged {

template <class Tag, std::size_t D0, std::size_t D1 = detail::no_axis,
          std::size_t D2 = detail::no_axis, std::size_t D3 = detail::no_axis>
using Input = xfuse::Input<D0, D1, D2, D3, Tag>;

template <class Tag, fixed_string Name, std::size_t D0, std::size_t D1 = detail::no_axis,
          std::size_t D2 = detail::no_axis, std::size_t D3 = detail::no_axis>
using NamedInput = xfuse::NamedInput<Name, D0, D1, D2, D3, Tag>;

template <class Tag, std::size_t Units, auto Act = linear, fixed_string Name = "",
          bool UseBias = true>
using Dense = xfuse::Dense<Units, Act, Name, UseBias, Tag>;

template <class Tag, auto F, fixed_string Name = "">
using Activation = xfuse::Activation<F, Name, Tag>;

template <class Tag, int Axis = -1, fixed_string Name = "">
using Concatenate = xfuse::Concatenate<Axis, Name, Tag>;

template <class Tag, int Axes, bool Normalize = false, fixed_string Name = "">
using Dot = xfuse::Dot<Axes, Normalize, Name, Tag>;

// Add, Subtract, Multiply, Average, Maximum and Minimum: declared with the merge layers
// (layers/merge.hpp), from the one list of them.

template <class Tag, fixed_string Name = "">
using GlobalAveragePooling1D = xfuse::GlobalAveragePooling1D<Name, Tag>;
template <class Tag, fixed_string Name = "">
using GlobalMaxPooling1D = xfuse::GlobalMaxPooling1D<Name, Tag>;
template <class Tag, fixed_string Name = "">
using Flatten = xfuse::Flatten<Name, Tag>;
template <class Tag, int D0, int D1 = 0, int D2 = 0, int D3 = 0, fixed_string Name = "">
using Reshape = xfuse::Reshape<D0, D1, D2, D3, Name, Tag>;

template <class Tag, std::size_t InputDim, std::size_t OutputDim, fixed_string Name = "">
using Embedding = xfuse::Embedding<InputDim, OutputDim, Name, Tag>;
template <class Tag, std::size_t Vocab, std::size_t SeqLen, std::size_t Dim, fixed_string Name = "">
using TokenAndPositionEmbedding = xfuse::TokenAndPositionEmbedding<Vocab, SeqLen, Dim, Name, Tag>;

template <class Tag, fixed_string Name = "", bool Center = true, bool Scale = true>
using LayerNormalization = xfuse::LayerNormalization<Name, Center, Scale, Tag>;
template <class Tag, fixed_string Name = "">
using Dropout = xfuse::Dropout<Name, Tag>;
template <class Tag, std::size_t NumHeads, std::size_t KeyDim, fixed_string Name = "",
          std::size_t ValueDim = KeyDim, std::size_t OutputDim = 0, bool UseBias = true>
using MultiHeadAttention =
    xfuse::MultiHeadAttention<NumHeads, KeyDim, Name, ValueDim, OutputDim, UseBias, Tag>;

}  // namespace xfuse::tagged
