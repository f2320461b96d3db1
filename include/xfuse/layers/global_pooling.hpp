// What the global poolings over time share: a (steps, features) sample becomes (features), the
// mean or the maximum of each feature over the steps (kernels/pool_rows.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "../core/shape.hpp"
#include "../kernels/pool_rows.hpp"
#include "layer.hpp"

namespace xfuse::detail {

template <Shape... In>
struct global_pooling_1d_rule {
    static_assert(sizeof...(In) == 1,
                  "xfuse::GlobalAveragePooling1D/GlobalMaxPooling1D take exactly one input tensor");
    using input = std::tuple_element_t<0, std::tuple<In..., shape<1, 1>>>;
    static_assert(input::rank == 2,
                  "xfuse::GlobalAveragePooling1D/GlobalMaxPooling1D take a sequence: samples of "
                  "shape (steps, features)");
    using type = shape<input::last>;
};

enum class pooling { average, max };

template <class Derived, pooling Kind, fixed_string Name>
struct global_pooling_1d : layer<Derived> {
    static constexpr std::string_view class_name =
        Kind == pooling::average ? "GlobalAveragePooling1D" : "GlobalMaxPooling1D";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    using output_shape = typename global_pooling_1d_rule<In...>::type;

    // Without a mask every step counts. Keras' masked mean, sum(x * mask) / sum(mask) per
    // sample, replaces the constant 1 / steps here once a mask reaches the layer (and the
    // maximum skips masked steps).
    template <Shape In>
    static constexpr float mean_scale = 1.0f / float(In::rows);

    template <Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        if constexpr (Kind == pooling::average)
            kernels::sum_rows(in[0], samples, In::rows, In::row_stride, mean_scale<In>, out);
        else
            kernels::max_rows(in[0], samples, In::rows, In::row_stride, out);
    }

    template <Shape In>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 1> in,
                         const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        if (!in_grad[0])
            return;
        if constexpr (Kind == pooling::average)
            kernels::sum_rows_backward(out_grad, samples, In::rows, In::row_stride, mean_scale<In>,
                                       in_grad[0]);
        else
            kernels::max_rows_backward(in[0], out, out_grad, samples, In::rows, In::row_stride,
                                       in_grad[0]);
    }
};

}  // namespace xfuse::detail
