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
// the logits of a few rows go to one small buffer that stays in L1, and the same epilogue runs on
// it in groups of rows, with the logits as memory operands. The buffer is filled in one of two
// ways:
// - SkipZeros (the caller knows x is relu output, about half zeros on typical data): a row at a
//   time by dense_nonzero.hpp, which runs only the nonzero features' FMAs, each with its own
//   weight load;
// - otherwise by the blocked product, which loads a weight once for several rows and is faster
//   when x has few zeros.
#pragma once

#include <array>
#include <cstddef>
#include <limits>

#include "../core/config.hpp"
#include "activations.hpp"
#include "arch/target.hpp"
#include "dense_nonzero.hpp"
#include "dense_tile.hpp"

namespace xfuse::kernels {

// Widest row that goes through the logits buffer when it does not fit in registers.
inline constexpr std::size_t attention_buffered_row_limit = 128;

// Whether the fused attention kernel handles a row of N (the fusion rules ask this).
template <std::size_t N>
inline constexpr bool attention_fits_registers = dense_blocking<N>::whole_row ||
                                                 padded(N) <= attention_buffered_row_limit;

namespace detail {

// Register j of a row of x for the dot with the weights: padding lanes of x are not part of the
// dot, whatever they hold.
template <std::size_t N, std::size_t R>
[[gnu::always_inline]] inline simd_batch x_register(const float* x_row, std::size_t j) noexcept {
    constexpr std::size_t tail = N % simd_width;
    const simd_batch xj = simd_batch::load_aligned(x_row + j * simd_width);
    if (tail != 0 && j == R - 1)
        return xsimd::select(xfuse::detail::first_lanes(tail), xj, simd_batch(0.0f));
    return xj;
}

// Stores a finished row: the pooled value weighted / sum in lane 0 of its register (zeros in
// the rest), and, if StoreWeights, the weights exps(j) / sum, from the row's lane-wise sum of
// the exps and lane-wise dot of the exps with x.
template <std::size_t R, bool StoreWeights, class Exps>
[[gnu::always_inline]] inline void store_pooled_row(const simd_batch& lane_sums,
                                                    const simd_batch& weighted, Exps exps,
                                                    float* weights_row,
                                                    float* pooled_row) noexcept {
    const float inverse_sum = 1.0f / xsimd::hadd(lane_sums);
    const simd_batch value(xsimd::hadd(weighted) * inverse_sum);
    xsimd::select(xfuse::detail::first_lanes(1), value, simd_batch(0.0f)).store_aligned(pooled_row);
    if constexpr (StoreWeights) {
        const simd_batch scale(inverse_sum);
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            (exps(j) * scale).store_aligned(weights_row + j * simd_width);
    }
}

// The epilogue of S finished rows of logits in acc (R registers each, the whole row).
template <std::size_t N, bool StoreWeights, std::size_t S, std::size_t R>
[[gnu::always_inline]] inline void pool_attention_rows(accumulator_block<S, R>& acc, const float* x,
                                                       std::size_t x_stride, float* weights,
                                                       std::size_t weights_stride, float* pooled,
                                                       std::size_t pooled_stride,
                                                       std::size_t row) noexcept {
    std::array<simd_batch, S> lane_sums;
    exponentiate_softmax_rows<N>(acc, lane_sums);
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        const float* x_row = x + (row + s) * x_stride;
        simd_batch weighted(0.0f);
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            weighted = xsimd::fma(acc[s][j], x_register<N, R>(x_row, j), weighted);
        store_pooled_row<R, StoreWeights>(
            lane_sums[s], weighted, [&](std::size_t j) { return acc[s][j]; },
            weights + (row + s) * weights_stride, pooled + (row + s) * pooled_stride);
    }
}

// The same epilogue for S rows of logits stored `stride` floats apart (the buffered path), with
// the logits and x as memory operands: phase by phase over the S rows (every row's max, then the
// exps register by register across the rows), so that the rows' chains of sums and dot products
// (one add or FMA per register, each waiting for the last) run side by side. Each row's
// arithmetic is pool_attention_rows' in the same order, so a row gives the same result in any
// group. StoreWeights keeps the exps in `logits` until the sums are known.
template <std::size_t N, bool StoreWeights, std::size_t S>
[[gnu::always_inline]] inline void pool_buffered_attention_rows(
    float* logits, std::size_t stride, const float* x, std::size_t x_stride, float* weights,
    std::size_t weights_stride, float* pooled, std::size_t pooled_stride,
    std::size_t row) noexcept {
    constexpr std::size_t R = padded(N) / simd_width;
    constexpr std::size_t tail = N - (R - 1) * simd_width;
    const auto logit = [&](std::size_t s, std::size_t j) {
        return simd_batch::load_aligned(logits + s * stride + j * simd_width);
    };
    std::array<simd_batch, S> row_max, sums, dots;
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        // Padding lanes of the last register are -inf: they reach neither the max nor the sum.
        if constexpr (tail != simd_width)
            xsimd::select(xfuse::detail::first_lanes(tail), logit(s, R - 1),
                          simd_batch(-std::numeric_limits<float>::infinity()))
                .store_aligned(logits + s * stride + (R - 1) * simd_width);
        simd_batch lanes_max = logit(s, 0);
        XFUSE_UNROLL
        for (std::size_t j = 1; j < R; ++j)
            lanes_max = xsimd::max(lanes_max, logit(s, j));
        row_max[s] = simd_batch(xfuse::detail::horizontal_max(lanes_max));
        sums[s] = simd_batch(0.0f);
        dots[s] = simd_batch(0.0f);
    }
    XFUSE_UNROLL
    for (std::size_t j = 0; j < R; ++j) {
        XFUSE_UNROLL
        for (std::size_t s = 0; s < S; ++s) {
            const simd_batch e = xfuse::detail::softmax_exp(logit(s, j) - row_max[s]);
            sums[s] += e;
            dots[s] = xsimd::fma(e, x_register<N, R>(x + (row + s) * x_stride, j), dots[s]);
            if constexpr (StoreWeights)
                e.store_aligned(logits + s * stride + j * simd_width);
        }
    }
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s)
        store_pooled_row<R, StoreWeights>(
            sums[s], dots[s], [&](std::size_t j) { return logit(s, j); },
            weights + (row + s) * weights_stride, pooled + (row + s) * pooled_stride);
}

}  // namespace detail

// `weights` (rows weights_stride apart) is written only if StoreWeights; `pooled` rows are
// pooled_stride apart and get the value in lane 0 and zeros in the rest of their register.
// SkipZeros chooses the zero-skipping product for rows that do not fit the registers.
template <std::size_t N, bool StoreWeights, bool SkipZeros = false>
void attention_pooling_rows(const float* kernel, const float* bias, const float* x,
                            std::size_t x_stride, float* weights, std::size_t weights_stride,
                            float* pooled, std::size_t pooled_stride, std::size_t rows) noexcept {
    static_assert(attention_fits_registers<N>,
                  "xfuse: fused attention needs a row of at most attention_buffered_row_limit "
                  "floats, or one that fits in registers");
    using blocking = dense_blocking<N>;
    constexpr std::size_t stride = padded(N);
    if constexpr (blocking::whole_row) {
        for_each_dense_block<N, N>(kernel, bias, x, x_stride, rows,
                                   [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc,
                                                                     std::size_t row, std::size_t) {
                                       detail::pool_attention_rows<N, StoreWeights>(
                                           acc, x, x_stride, weights, weights_stride, pooled,
                                           pooled_stride, row);
                                   });
    } else if constexpr (SkipZeros) {
        // Groups of 3 rows: enough chains side by side in the epilogue, few enough that their
        // maxes, sums and dot products mostly stay in registers next to the exps' temporaries.
        constexpr std::size_t group = 3;
        alignas(buffer_alignment) float logits[group * stride];
        std::size_t row = 0;
        for (; row + group <= rows; row += group) {
            for (std::size_t s = 0; s < group; ++s)
                dense_nonzero_row<N, N>(kernel, bias, x + (row + s) * x_stride,
                                        logits + s * stride);
            detail::pool_buffered_attention_rows<N, StoreWeights, group>(
                logits, stride, x, x_stride, weights, weights_stride, pooled, pooled_stride, row);
        }
        for (; row < rows; ++row) {
            dense_nonzero_row<N, N>(kernel, bias, x + row * x_stride, logits);
            detail::pool_buffered_attention_rows<N, StoreWeights, 1>(
                logits, stride, x, x_stride, weights, weights_stride, pooled, pooled_stride, row);
        }
    } else {
        alignas(buffer_alignment) float logits[blocking::rows * stride];
        for_each_dense_block<N, N>(
            kernel, bias, x, x_stride, rows,
            [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                              std::size_t column) {
                store_block(acc, logits + column, stride,
                            [](const simd_batch& value) { return value; });
                if (column + R * simd_width != stride)
                    return;
                if constexpr (S == 1) {
                    // A lone row: its logits fit in registers, and nothing runs beside it.
                    accumulator_block<1, blocking::row_registers> row_logits;
                    XFUSE_UNROLL
                    for (std::size_t j = 0; j < blocking::row_registers; ++j)
                        row_logits[0][j] = simd_batch::load_aligned(logits + j * simd_width);
                    detail::pool_attention_rows<N, StoreWeights>(row_logits, x, x_stride, weights,
                                                                 weights_stride, pooled,
                                                                 pooled_stride, row);
                } else {
                    // Groups of 3 or 2 rows, as above.
                    constexpr std::size_t group = S % 3 == 0 ? 3 : (S % 2 == 0 ? 2 : 1);
                    XFUSE_UNROLL
                    for (std::size_t s = 0; s < S; s += group)
                        detail::pool_buffered_attention_rows<N, StoreWeights, group>(
                            logits + s * stride, stride, x, x_stride, weights, weights_stride,
                            pooled, pooled_stride, row + s);
                }
            });
    }
}

}  // namespace xfuse::kernels
