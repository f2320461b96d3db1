// GlobalMaxPooling1D<Name>: Keras' GlobalMaxPooling1D (channels_last), the largest value of
// each feature over the steps of a (steps, features) sample. Its gradient is TensorFlow's for
// reduce_max: steps tied at the maximum share it equally.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "../kernels/pool_rows.hpp"
#include "global_pooling.hpp"
#include "layer.hpp"

namespace xfuse {

template <fixed_string Name = "", class Tag = decltype([] {})>
struct GlobalMaxPooling1D : layer<GlobalMaxPooling1D<Name, Tag>> {
    static constexpr std::string_view class_name = "GlobalMaxPooling1D";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    using output_shape = typename detail::global_pooling_1d_rule<In...>::type;

    template <Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        kernels::max_rows(in[0], samples, In::rows, In::row_stride, out);
    }

    template <Shape In>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 1> in,
                         const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        if (in_grad[0])
            kernels::max_rows_backward(in[0], out, out_grad, samples, In::rows, In::row_stride,
                                       in_grad[0]);
    }
};

}  // namespace xfuse
