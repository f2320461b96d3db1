// GlobalAveragePooling1D<Name>: Keras' GlobalAveragePooling1D (channels_last), the mean over
// the steps of a (steps, features) sample.
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
struct GlobalAveragePooling1D : layer<GlobalAveragePooling1D<Name, Tag>> {
    static constexpr std::string_view class_name = "GlobalAveragePooling1D";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    using output_shape = typename detail::global_pooling_1d_rule<In...>::type;

    // Without a mask every step counts. Keras' masked mean, sum(x * mask) / sum(mask) per
    // sample, replaces the constant 1 / steps here once a mask reaches the layer.
    template <Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        kernels::sum_rows(in[0], samples, In::rows, In::row_stride, 1.0f / float(In::rows), out);
    }

    template <Shape In>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 1>,
                         const float*, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        if (in_grad[0])
            kernels::sum_rows_backward(out_grad, samples, In::rows, In::row_stride,
                                       1.0f / float(In::rows), in_grad[0]);
    }
};

}  // namespace xfuse
