// Fused attention pooling, Keras' Dot(axes=1)([x, Dense(N, softmax)(x)]) over rows of x:
//
//   a = softmax(x W + b)        (the attention weights, N of them)
//   pooled = sum_j a_j x_j      (the Dot with the same x)
//
// One pass per block of rows: the logits are accumulated in registers (kernels/dense_tile.hpp's
// blocking), then max, exp, sum and the weighted sum with x are computed on them; the weights
// reach memory only when the caller wants them (they are a model output). Bound: the FMAs of
// x W (N*N per row); the softmax and the dot add about 2N element operations, the exps
// N/simd_width calls.
//
// Where a whole row and the blocks' other rows fit in registers (dense_blocking<N>::whole_row),
// the epilogue runs on the accumulators. Otherwise (a 96-wide row on a target of 16 registers)
// the blocks of a row of blocks are stored into one small logits buffer that stays in L1, and
// the same epilogue then runs row by row on it, once the row's last block is done.
#pragma once

#include <array>
#include <cstddef>

#include "../core/config.hpp"
#include "activations.hpp"
#include "arch/target.hpp"
#include "dense_tile.hpp"

namespace xfuse::kernels {

// Widest row that goes through the logits buffer when it does not fit in registers.
inline constexpr std::size_t attention_buffered_row_limit = 128;

// Whether the fused attention kernel handles a row of N (the fusion rules ask this).
template <std::size_t N>
inline constexpr bool attention_fits_registers = dense_blocking<N>::whole_row ||
                                                 padded(N) <= attention_buffered_row_limit;

namespace detail {

// The epilogue of S finished rows of logits in acc (R registers each, the whole row).
template <std::size_t N, bool StoreWeights, std::size_t S, std::size_t R>
[[gnu::always_inline]] inline void pool_attention_rows(accumulator_block<S, R>& acc, const float* x,
                                                       std::size_t x_stride, float* weights,
                                                       std::size_t weights_stride, float* pooled,
                                                       std::size_t pooled_stride,
                                                       std::size_t row) noexcept {
    constexpr std::size_t tail = N % simd_width;
    std::array<simd_batch, S> lane_sums;
    exponentiate_softmax_rows<N>(acc, lane_sums);
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        const float inverse_sum = 1.0f / xsimd::hadd(lane_sums[s]);
        const float* x_row = x + (row + s) * x_stride;
        simd_batch weighted(0.0f);
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j) {
            simd_batch xj = simd_batch::load_aligned(x_row + j * simd_width);
            // Padding lanes of x are not part of the dot, whatever they hold.
            if (tail != 0 && j == R - 1)
                xj = xsimd::select(xfuse::detail::first_lanes(tail), xj, simd_batch(0.0f));
            weighted = xsimd::fma(acc[s][j], xj, weighted);
        }
        const simd_batch value(xsimd::hadd(weighted) * inverse_sum);
        xsimd::select(xfuse::detail::first_lanes(1), value, simd_batch(0.0f))
            .store_aligned(pooled + (row + s) * pooled_stride);
        if constexpr (StoreWeights) {
            const simd_batch scale(inverse_sum);
            XFUSE_UNROLL
            for (std::size_t j = 0; j < R; ++j)
                (acc[s][j] * scale)
                    .store_aligned(weights + (row + s) * weights_stride + j * simd_width);
        }
    }
}

}  // namespace detail

// `weights` (rows weights_stride apart) is written only if StoreWeights; `pooled` rows are
// pooled_stride apart and get the value in lane 0 and zeros in the rest of their register.
template <std::size_t N, bool StoreWeights>
void attention_pooling_rows(const float* kernel, const float* bias, const float* x,
                            std::size_t x_stride, float* weights, std::size_t weights_stride,
                            float* pooled, std::size_t pooled_stride, std::size_t rows) noexcept {
    static_assert(attention_fits_registers<N>,
                  "xfuse: fused attention needs a row of at most attention_buffered_row_limit "
                  "floats, or one that fits in registers");
    using blocking = dense_blocking<N>;
    if constexpr (blocking::whole_row) {
        for_each_dense_block<N, N>(kernel, bias, x, x_stride, rows,
                                   [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc,
                                                                     std::size_t row, std::size_t) {
                                       detail::pool_attention_rows<N, StoreWeights>(
                                           acc, x, x_stride, weights, weights_stride, pooled,
                                           pooled_stride, row);
                                   });
    } else {
        constexpr std::size_t stride = padded(N);
        alignas(buffer_alignment) float logits[blocking::rows * stride];
        for_each_dense_block<N, N>(
            kernel, bias, x, x_stride, rows,
            [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                              std::size_t column) {
                store_block(acc, logits + column, stride,
                            [](const simd_batch& value) { return value; });
                if (column + R * simd_width != stride)
                    return;
                for (std::size_t s = 0; s < S; ++s) {
                    accumulator_block<1, blocking::row_registers> row_logits;
                    XFUSE_UNROLL
                    for (std::size_t j = 0; j < blocking::row_registers; ++j)
                        row_logits[0][j] =
                            simd_batch::load_aligned(logits + s * stride + j * simd_width);
                    detail::pool_attention_rows<N, StoreWeights>(row_logits, x, x_stride, weights,
                                                                 weights_stride, pooled,
                                                                 pooled_stride, row + s);
                }
            });
    }
}

}  // namespace xfuse::kernels
