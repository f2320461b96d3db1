// Row kernels of MultiHeadAttention (layers/multi_head_attention.hpp): projections of one row
// onto one head, their transposes and outer products, on padded rows of `width` floats (a
// multiple of simd_width, aligned to buffer_alignment). Padding lanes of the weights are 0, so
// whole registers can be used wherever the weights are one operand; the rows of the layer's
// inputs are read at their logical lanes only, as their padding lanes may hold anything.
#pragma once

#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// y = bias + sum_{i < n} x[i] w[i * w_stride .. + width): one row of x times the (n, width)
// slice of a kernel whose rows are w_stride floats apart. `bias` may be null (zero).
inline void project_row(const float* x, std::size_t n, const float* w, std::size_t w_stride,
                        const float* bias, float* y, std::size_t width) noexcept {
    for (std::size_t c = 0; c < width; c += simd_width) {
        simd_batch acc = bias ? simd_batch::load_aligned(bias + c) : simd_batch(0.0f);
        for (std::size_t i = 0; i < n; ++i)
            acc = xsimd::fma(simd_batch(x[i]), simd_batch::load_aligned(w + i * w_stride + c), acc);
        acc.store_aligned(y + c);
    }
}

// y += a x over width floats.
inline void add_scaled_row(float a, const float* x, float* y, std::size_t width) noexcept {
    const simd_batch scale(a);
    for (std::size_t c = 0; c < width; c += simd_width)
        xsimd::fma(scale, simd_batch::load_aligned(x + c), simd_batch::load_aligned(y + c))
            .store_aligned(y + c);
}

// dx[i] += <dy, w[i * w_stride .. + width)> for i < n: the transpose of project_row.
inline void add_project_row_transposed(const float* dy, const float* w, std::size_t w_stride,
                                       std::size_t n, float* dx, std::size_t width) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        simd_batch acc(0.0f);
        for (std::size_t c = 0; c < width; c += simd_width)
            acc = xsimd::fma(simd_batch::load_aligned(dy + c),
                             simd_batch::load_aligned(w + i * w_stride + c), acc);
        dx[i] += xsimd::hadd(acc);
    }
}

// dw[i * w_stride .. + width) += x[i] dy for i < n: the kernel gradient of project_row.
inline void add_outer_rows(const float* x, std::size_t n, const float* dy, float* dw,
                           std::size_t w_stride, std::size_t width) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        add_scaled_row(x[i], dy, dw + i * w_stride, width);
}

}  // namespace xfuse::kernels
