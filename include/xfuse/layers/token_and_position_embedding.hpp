// TokenAndPositionEmbedding<Vocab, SeqLen, Dim, Name>: keras-hub's (formerly keras-nlp's) layer.
// A (T) sample of token ids, T <= SeqLen, gives (T, Dim): row id of the token table plus row t
// of the position table. Its weights, in the order the layer builds them, are the sublayers'
// tables: "token_embedding/embeddings" (Vocab, Dim), then "position_embedding/embeddings"
// (SeqLen, Dim), both initialised "uniform" (the layer's default embeddings_initializer, which
// it gives to both). Sublayer weights keep their sublayer's name in tf.keras 2.x files:
// <layer>/token_embedding/embeddings:0.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "../kernels/elementwise.hpp"
#include "../kernels/gather_rows.hpp"
#include "layer.hpp"
#include "token_ids.hpp"

namespace xfuse {

template <std::size_t Vocab, std::size_t SeqLen, std::size_t Dim, fixed_string Name = "",
          class Tag = decltype([] {})>
struct TokenAndPositionEmbedding
    : layer<TokenAndPositionEmbedding<Vocab, SeqLen, Dim, Name, Tag>>,
      detail::token_id_input<TokenAndPositionEmbedding<Vocab, SeqLen, Dim, Name, Tag>, Vocab> {
    static_assert(Vocab > 0 && SeqLen > 0 && Dim > 0,
                  "xfuse::TokenAndPositionEmbedding: Vocab, SeqLen and Dim must be positive");

    static constexpr std::string_view class_name = "TokenAndPositionEmbedding";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    struct rule {
        static_assert(sizeof...(In) == 1,
                      "xfuse::TokenAndPositionEmbedding takes exactly one input tensor");
        using input = std::tuple_element_t<0, std::tuple<In..., shape<1>>>;
        static_assert(input::rank == 1,
                      "xfuse::TokenAndPositionEmbedding takes a sequence of token ids: samples "
                      "of shape (steps)");
        static_assert(input::last <= SeqLen,
                      "xfuse::TokenAndPositionEmbedding: the sequence is longer than SeqLen, the "
                      "rows of the position table");
        using type = shape<input::last, Dim>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;

    template <Shape... In>
    static constexpr std::array<weight_spec, 2> weights{
        weight_spec{"token_embedding/embeddings", {Vocab, Dim}, 2, initializer::uniform},
        weight_spec{"position_embedding/embeddings", {SeqLen, Dim}, 2, initializer::uniform}};

    template <Shape In>
    static void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        detail::gather_ids<In, Vocab, Dim>(params, samples, in[0], out);
        // Positions 0 .. T-1: the first T rows of the position table, the same for every sample.
        constexpr std::size_t block = In::last * padded(Dim);
        const float* positions = params + Vocab * padded(Dim);
        for (std::size_t s = 0; s < samples; ++s) {
            float* sample = out + s * block;
            const std::array<const float*, 2> terms{sample, positions};
            kernels::merge<kernels::add_op>(terms.data(), 2, sample, block);
        }
    }

    template <Shape In>
    static void backward(const float*, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float*, const float* out_grad,
                         std::array<float*, 1>) noexcept {
        detail::scatter_ids<In, Vocab, Dim>(out_grad, samples, in[0], param_grads);
        constexpr std::size_t stride = padded(Dim);
        float* positions = param_grads + Vocab * stride;
        for (std::size_t s = 0; s < samples; ++s)
            for (std::size_t t = 0; t < In::last; ++t)
                kernels::add_lanes(out_grad + (s * In::last + t) * stride, Dim,
                                   positions + t * stride);
    }
};

}  // namespace xfuse
