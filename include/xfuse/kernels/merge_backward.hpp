// Backward of the element-wise merges of kernels/elementwise.hpp: each input's gradient, added
// to what it holds, a full SIMD register at a time (padding lanes compute harmlessly, as in the
// forward merge). One pass over the k inputs per register: bound by loads and stores.
//
// Maximum and Minimum follow Keras, which folds tf.maximum (tf.minimum) over the inputs from
// the first: TensorFlow's gradient of maximum(a, b) goes to a where a >= b, so on a tie the
// whole gradient goes to the first input that holds the extreme value.
#pragma once

#include <concepts>
#include <cstddef>

#include "../core/config.hpp"
#include "elementwise.hpp"

namespace xfuse::kernels {

namespace detail {

// `grads[i]` may be null: that input needs no gradient.
inline void add_to(float* grad, std::size_t i, simd_batch value) noexcept {
    if (grad)
        (simd_batch::load_aligned(grad + i) + value).store_aligned(grad + i);
}

template <class Op>
void extreme_backward(const float* const* inputs, std::size_t k, const float* out_grad,
                      float* const* grads, std::size_t count) noexcept {
    const simd_batch zero(0.0f);
    for (std::size_t i = 0; i < count; i += simd_width) {
        simd_batch extreme = simd_batch::load_aligned(inputs[0] + i);
        for (std::size_t j = 1; j < k; ++j)
            extreme = Op::combine(extreme, simd_batch::load_aligned(inputs[j] + i));
        const simd_batch g = simd_batch::load_aligned(out_grad + i);
        auto taken = simd_batch(0.0f) != zero;  // all false
        for (std::size_t j = 0; j < k; ++j) {
            const auto first_hit = (simd_batch::load_aligned(inputs[j] + i) == extreme) && !taken;
            add_to(grads[j], i, xsimd::select(first_hit, g, zero));
            taken = taken || first_hit;
        }
    }
}

}  // namespace detail

template <class Op>
void merge_backward(const float* const* inputs, std::size_t k, const float* out_grad,
                    float* const* grads, std::size_t count) noexcept {
    if constexpr (std::same_as<Op, maximum_op> || std::same_as<Op, minimum_op>) {
        detail::extreme_backward<Op>(inputs, k, out_grad, grads, count);
    } else {
        for (std::size_t i = 0; i < count; i += simd_width) {
            const simd_batch g = simd_batch::load_aligned(out_grad + i);
            for (std::size_t j = 0; j < k; ++j) {
                if constexpr (std::same_as<Op, add_op>) {
                    detail::add_to(grads[j], i, g);
                } else if constexpr (std::same_as<Op, subtract_op>) {
                    detail::add_to(grads[j], i, j == 0 ? g : -g);
                } else if constexpr (std::same_as<Op, average_op>) {
                    detail::add_to(grads[j], i, Op::finish(g, k));
                } else {
                    static_assert(std::same_as<Op, multiply_op>, "xfuse: merge without backward");
                    // The product of the other inputs, not out / x_j: exact when x_j is 0.
                    simd_batch others = g;
                    for (std::size_t m = 0; m < k; ++m)
                        if (m != j)
                            others *= simd_batch::load_aligned(inputs[m] + i);
                    detail::add_to(grads[j], i, others);
                }
            }
        }
    }
}

}  // namespace xfuse::kernels
