// Dense rows: y[r, :] = x[r, :In] * W + b for `rows` rows, W stored (In, padded(Out)).
//
// Row by row, without sample blocking: the pre-activations a backward pass or a trainer's logits
// path recomputes for a few rows (the forward layers run dense_tile.hpp's blocked kernel). The
// output registers are processed in groups of up to four accumulators; each x[r, i] is broadcast
// once per group and feeds one FMA per accumulator. Bound: one weight load per FMA, so L1
// bandwidth, about half of the FMA peak.
#pragma once

#include <cstddef>
#include <utility>

#include "../core/config.hpp"
#include "arch/target.hpp"

namespace xfuse::kernels {

namespace detail {

template <std::size_t Group, std::size_t In>
inline void dense_register_group(const float* kernel, std::size_t kernel_stride, const float* bias,
                                 const float* x, float* y) noexcept {
    simd_batch acc[Group];
    XFUSE_UNROLL
    for (std::size_t g = 0; g < Group; ++g)
        acc[g] = bias ? simd_batch::load_aligned(bias + g * simd_width) : simd_batch(0.0f);
    for (std::size_t i = 0; i < In; ++i) {
        const simd_batch xi(x[i]);
        const float* w = kernel + i * kernel_stride;
        XFUSE_UNROLL
        for (std::size_t g = 0; g < Group; ++g)
            acc[g] = xsimd::fma(xi, simd_batch::load_aligned(w + g * simd_width), acc[g]);
    }
    XFUSE_UNROLL
    for (std::size_t g = 0; g < Group; ++g)
        acc[g].store_aligned(y + g * simd_width);
}

}  // namespace detail

// `bias` may be null (use_bias = false). All pointers are aligned to the SIMD width; x rows are
// padded(In) apart and y rows padded(Out) apart.
template <std::size_t In, std::size_t Out>
void dense_rows(const float* kernel, const float* bias, const float* x, float* y,
                std::size_t rows) noexcept {
    constexpr std::size_t x_stride = padded(In);
    constexpr std::size_t y_stride = padded(Out);
    constexpr std::size_t registers = y_stride / simd_width;
    constexpr std::size_t group = 4;
    constexpr std::size_t full_groups = registers / group;
    constexpr std::size_t rest = registers % group;
    for (std::size_t r = 0; r < rows; ++r, x += x_stride, y += y_stride) {
        for (std::size_t g = 0; g < full_groups; ++g) {
            const std::size_t column = g * group * simd_width;
            detail::dense_register_group<group, In>(kernel + column, y_stride,
                                                    bias ? bias + column : nullptr, x, y + column);
        }
        if constexpr (rest != 0) {
            const std::size_t column = full_groups * group * simd_width;
            detail::dense_register_group<rest, In>(kernel + column, y_stride,
                                                   bias ? bias + column : nullptr, x, y + column);
        }
    }
}

}  // namespace xfuse::kernels
