// Embedding<InputDim, OutputDim, Name>: Keras' Embedding. Each token id of the sample (a float
// holding an integer in [0, InputDim)) becomes its row of the `embeddings` table
// (InputDim, OutputDim), initialised "uniform" (RandomUniform(-0.05, 0.05)). A (T) sample of ids
// gives (T, OutputDim). Ids get no gradient; the table's rows get the gradients of their
// occurrences, summed.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "layer.hpp"
#include "token_ids.hpp"

namespace xfuse {

namespace detail {
template <Shape S, std::size_t Last>
constexpr auto appended_dims() {
    std::array<std::size_t, S::rank + 1> dims{};
    for (std::size_t i = 0; i < S::rank; ++i)
        dims[i] = S::dims[i];
    dims[S::rank] = Last;
    return dims;
}
}  // namespace detail

template <std::size_t InputDim, std::size_t OutputDim, fixed_string Name = "",
          class Tag = decltype([] {})>
struct Embedding : layer<Embedding<InputDim, OutputDim, Name, Tag>>,
                   detail::token_id_input<Embedding<InputDim, OutputDim, Name, Tag>, InputDim> {
    static_assert(InputDim > 0 && OutputDim > 0,
                  "xfuse::Embedding: InputDim (the vocabulary) and OutputDim must be positive");

    static constexpr std::string_view class_name = "Embedding";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    using output_shape =
        shape_from_array_t<detail::appended_dims<only_input_t<In...>, OutputDim>()>;

    template <Shape... In>
    static constexpr std::array<weight_spec, 1> weights{
        weight_spec{"embeddings", {InputDim, OutputDim}, 2, initializer::uniform}};

    template <Shape In>
    static void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        detail::gather_ids<In, InputDim, OutputDim>(params, samples, in[0], out);
    }

    template <Shape In>
    static void backward(const float*, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float*, const float* out_grad,
                         std::array<float*, 1>) noexcept {
        detail::scatter_ids<In, InputDim, OutputDim>(out_grad, samples, in[0], param_grads);
    }
};

}  // namespace xfuse
