// What Flatten and Reshape share: the values of a sample keep their row-major order and move
// into the output's row layout (kernels/relayout.hpp); backward moves the gradient back.
#pragma once

#include <array>
#include <cstddef>

#include "../kernels/relayout.hpp"
#include "layer.hpp"

namespace xfuse::detail {

template <class Derived>
struct relayout_layer : layer<Derived> {
    template <Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        using Out = typename Derived::template output_shape<In>;
        kernels::relayout<false>(in[0], In::last, out, Out::last, In::size, samples);
    }

    template <Shape In>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 1>,
                         const float*, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        using Out = typename Derived::template output_shape<In>;
        if (in_grad[0])
            kernels::relayout<true>(out_grad, Out::last, in_grad[0], In::last, In::size, samples);
    }
};

}  // namespace xfuse::detail
