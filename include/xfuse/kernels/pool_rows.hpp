// Reductions over the rows of each sample (the time steps of a (T, D) sequence), one padded row
// of D features a register at a time: the mean and the maximum, and their gradients. Padding
// lanes are computed with the rest and may hold anything; no logical lane reads them.
#pragma once

#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// out[s] = sum over the `rows` rows of sample s, times `scale` (1/rows for a mean). Each sample
// is `rows` consecutive rows of `stride` floats; out holds one row per sample.
inline void sum_rows(const float* in, std::size_t samples, std::size_t rows, std::size_t stride,
                     float scale, float* out) noexcept {
    const simd_batch factor(scale);
    for (std::size_t s = 0; s < samples; ++s, in += rows * stride, out += stride)
        for (std::size_t i = 0; i < stride; i += simd_width) {
            simd_batch acc(0.0f);
            for (std::size_t t = 0; t < rows; ++t)
                acc += simd_batch::load_aligned(in + t * stride + i);
            (acc * factor).store_aligned(out + i);
        }
}

// in_grad[s, t] += out_grad[s] * scale for every row t: the gradient of sum_rows.
inline void sum_rows_backward(const float* out_grad, std::size_t samples, std::size_t rows,
                              std::size_t stride, float scale, float* in_grad) noexcept {
    const simd_batch factor(scale);
    for (std::size_t s = 0; s < samples; ++s, in_grad += rows * stride, out_grad += stride)
        for (std::size_t i = 0; i < stride; i += simd_width) {
            const simd_batch g = simd_batch::load_aligned(out_grad + i) * factor;
            for (std::size_t t = 0; t < rows; ++t) {
                float* at = in_grad + t * stride + i;
                (simd_batch::load_aligned(at) + g).store_aligned(at);
            }
        }
}

// out[s] = the largest of the rows of sample s, feature by feature.
inline void max_rows(const float* in, std::size_t samples, std::size_t rows, std::size_t stride,
                     float* out) noexcept {
    for (std::size_t s = 0; s < samples; ++s, in += rows * stride, out += stride)
        for (std::size_t i = 0; i < stride; i += simd_width) {
            simd_batch top = simd_batch::load_aligned(in + i);
            for (std::size_t t = 1; t < rows; ++t)
                top = xsimd::max(top, simd_batch::load_aligned(in + t * stride + i));
            top.store_aligned(out + i);
        }
}

// The gradient of max_rows as TensorFlow's reduce_max defines it: the rows that hold the
// maximum share the output's gradient equally (a tie of k rows gives each 1/k). `out` is
// max_rows' output for `in`.
inline void max_rows_backward(const float* in, const float* out, const float* out_grad,
                              std::size_t samples, std::size_t rows, std::size_t stride,
                              float* in_grad) noexcept {
    const simd_batch zero(0.0f), one(1.0f);
    for (std::size_t s = 0; s < samples; ++s) {
        for (std::size_t i = 0; i < stride; i += simd_width) {
            const simd_batch top = simd_batch::load_aligned(out + i);
            simd_batch ties(0.0f);
            for (std::size_t t = 0; t < rows; ++t)
                ties +=
                    xsimd::select(simd_batch::load_aligned(in + t * stride + i) == top, one, zero);
            // Where no row equals the output (a padding lane), nothing is added.
            const simd_batch share =
                xsimd::select(ties > zero, simd_batch::load_aligned(out_grad + i) / ties, zero);
            for (std::size_t t = 0; t < rows; ++t) {
                const auto hit = simd_batch::load_aligned(in + t * stride + i) == top;
                float* at = in_grad + t * stride + i;
                (simd_batch::load_aligned(at) + xsimd::select(hit, share, zero)).store_aligned(at);
            }
        }
        in += rows * stride, in_grad += rows * stride, out += stride, out_grad += stride;
    }
}

}  // namespace xfuse::kernels
