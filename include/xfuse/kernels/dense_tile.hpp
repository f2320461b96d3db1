// Register-blocked Dense: y[r, :] = act(x[r, :In] W + b) for a block of rows at once.
//
// Blocking: a tile of S rows times R output registers is held in S*R accumulators. For each
// input feature k, the R weight registers of row k of W are loaded once and each feeds S FMAs
// (one per row of the tile, with x[r, k] broadcast). Weights are then loaded once per S rows
// instead of once per row, which moves the bound from L1 bandwidth (one load per FMA) to the
// FMA ports. S and R are compile-time functions of the layer's width and the target's register
// count (arch/target.hpp), leaving registers for the weight loads, the broadcast and an
// epilogue's temporaries. Every loop over the S rows or the R registers of a block is unrolled
// at compile time (XFUSE_UNROLL), so that the accumulators are registers at any optimisation
// level.
//
// The epilogue receives the finished accumulators, so an activation (element-wise, or a whole
// softmax row when the row fits in registers) is applied before anything is stored, and fused
// consumers (kernels/attention.hpp) can use the row without storing it at all.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "../core/config.hpp"
#include "activations.hpp"
#include "arch/lanes.hpp"
#include "arch/target.hpp"

namespace xfuse::kernels {

// Vector registers the blocking plans with (arch::registers: the target's, or the build's
// XFUSE_TARGET_REGISTERS).
inline constexpr std::size_t simd_registers = arch::registers;

// Rows and registers of one block of accumulators for a Dense of Out units.
template <std::size_t Out>
struct dense_blocking {
    // Registers of a whole output row.
    static constexpr std::size_t row_registers = padded(Out) / simd_width;
    // Accumulators get all but 8 registers of 32 (24: 4 rows of the 96-wide attention) and all
    // but 4 of 16 (12); the weights of one input feature and the broadcast need the rest.
    static constexpr std::size_t budget =
        simd_registers >= 32 ? simd_registers - 8 : simd_registers - 4;
    // Whether a block covers the whole row, so a row-wise epilogue (softmax) runs in registers:
    // only while that still leaves 3 rows per block. With fewer, every weight loaded would feed
    // 1 or 2 FMAs (a 256-wide row in 16 registers gets 1 row: the 256 KiB of weights would come
    // from L2 once per sample).
    static constexpr bool whole_row = row_registers * 3 <= budget;
    // R: output registers per row in one block. A wider row is cut into blocks of budget / 6
    // registers (4 with 32 registers, 2 with 16) for 6 rows.
    static constexpr std::size_t registers =
        whole_row ? row_registers : std::max<std::size_t>(budget / 6, 1);
    // A lone row (a single sample, a batch's last rows) has no other rows to share the weight
    // loads with: it takes as many registers as leave room for the broadcast and temporaries,
    // with the weights as memory operands, since with a narrow block its few accumulators would
    // be as few chains of dependent FMAs.
    static constexpr std::size_t lone_row_registers =
        whole_row ? row_registers : std::min(row_registers, simd_registers - 4);
    // S: rows per block. More than 8 adds little reuse and much code (the tail runs a row at a
    // time).
    static constexpr std::size_t rows = std::clamp<std::size_t>(budget / registers, 1, 8);
};

template <std::size_t S, std::size_t R>
using accumulator_block = std::array<std::array<simd_batch, R>, S>;

namespace detail {

using arch::pin_in_register;

// acc[s][j] += sum over k in [first, last) of x[s, k] W[k, column + j]: for each k, the R weight
// registers of row k of W, each feeding S FMAs.
template <std::size_t S, std::size_t R>
[[gnu::always_inline]] inline void accumulate_features(const float* kernel,
                                                       std::size_t kernel_stride, const float* x,
                                                       std::size_t x_stride, std::size_t first,
                                                       std::size_t last,
                                                       accumulator_block<S, R>& acc) noexcept {
    for (std::size_t k = first; k < last; ++k) {
        const float* w = kernel + k * kernel_stride;
        std::array<simd_batch, R> weights;
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j) {
            weights[j] = simd_batch::load_aligned(w + j * simd_width);
            // Only while accumulators, weights and the broadcast all fit (not for 3 rows of 8
            // registers: a spill would cost more than the memory operands).
            if constexpr (S * R + R + 1 <= simd_registers)
                pin_in_register(weights[j]);
        }
        XFUSE_UNROLL
        for (std::size_t s = 0; s < S; ++s) {
            const simd_batch xs(x[s * x_stride + k]);
            XFUSE_UNROLL
            for (std::size_t j = 0; j < R; ++j)
                acc[s][j] = xsimd::fma(xs, weights[j], acc[s][j]);
        }
    }
}

// Where the input features split into two sums (see accumulate_rows), or In for no split.
template <std::size_t In>
inline constexpr std::size_t feature_split = In >= 32 ? In / 2 : In;

// acc[s][j] = b[column + j] + sum_k x[s, k] W[k, column + j], for S rows and R registers.
//
// From 32 inputs on, the sum is two chains added at the end: (b + sum over the first half) +
// (sum over the second half), for every S, so that one row (a single-sample call) gets the
// bit-identical result of the same row in a batch. A row alone has only R chains of dependent
// FMAs (4 cycles each): the 96-wide attention's 96 steps would be 384 cycles of latency for 288
// of FMA throughput; in two halves side by side they are 192. Blocks of several rows have
// chains enough and run the halves one after the other (R more adds per row).
template <std::size_t In, std::size_t S, std::size_t R>
[[gnu::always_inline]] inline void accumulate_rows(const float* kernel, std::size_t kernel_stride,
                                                   const float* bias, const float* x,
                                                   std::size_t x_stride,
                                                   accumulator_block<S, R>& result) noexcept {
    constexpr std::size_t split = feature_split<In>;
    accumulator_block<S, R> acc;
    XFUSE_UNROLL
    for (std::size_t j = 0; j < R; ++j) {
        const simd_batch b =
            bias ? simd_batch::load_aligned(bias + j * simd_width) : simd_batch(0.0f);
        XFUSE_UNROLL
        for (std::size_t s = 0; s < S; ++s)
            acc[s][j] = b;
    }
    if constexpr (split == In) {
        accumulate_features<S, R>(kernel, kernel_stride, x, x_stride, 0, In, acc);
    } else {
        accumulator_block<S, R> second{};
        if constexpr (2 * S * R + 2 * R + 2 <= simd_registers) {
            // Both halves side by side: steps k and split + k together, with x[s, k] and
            // x[s, split + k] in every lane of xs[s] and xs_second[s].
            const auto step = [&](std::size_t k, const std::array<simd_batch, S>& xs,
                                  const std::array<simd_batch, S>& xs_second) {
                const float* w = kernel + k * kernel_stride;
                const float* w_second = w + split * kernel_stride;
                std::array<simd_batch, R> weights, weights_second;
                XFUSE_UNROLL
                for (std::size_t j = 0; j < R; ++j) {
                    weights[j] = simd_batch::load_aligned(w + j * simd_width);
                    weights_second[j] = simd_batch::load_aligned(w_second + j * simd_width);
                    pin_in_register(weights[j]);
                    pin_in_register(weights_second[j]);
                }
                XFUSE_UNROLL
                for (std::size_t s = 0; s < S; ++s) {
                    XFUSE_UNROLL
                    for (std::size_t j = 0; j < R; ++j) {
                        acc[s][j] = xsimd::fma(xs[s], weights[j], acc[s][j]);
                        second[s][j] = xsimd::fma(xs_second[s], weights_second[j], second[s][j]);
                    }
                }
            };
            std::size_t k = 0;
            constexpr bool lanes = S == 1 && arch::moves_lanes_in_registers;
            if constexpr (lanes) {
                // A lone row is bound by loads (2 R weight registers and 2 broadcasts per
                // step): its inputs are loaded a register at a time and broadcast from there.
                arch::lane_broadcast lane;
                for (; k + simd_width <= split; k += simd_width) {
                    const simd_batch block = simd_batch::load_unaligned(x + k);
                    const simd_batch block_second = simd_batch::load_unaligned(x + split + k);
                    for (std::size_t i = 0; i < simd_width; ++i) {
                        step(k + i, {lane(block)}, {lane(block_second)});
                        lane.next();
                    }
                    lane.reset();
                }
            }
            // The features the register loads leave (none when they cover the half: then the
            // loop is not compiled at all, which also keeps g++ from warning about it).
            if constexpr (!lanes || split % simd_width != 0)
                for (; k < split; ++k) {
                    std::array<simd_batch, S> xs, xs_second;
                    XFUSE_UNROLL
                    for (std::size_t s = 0; s < S; ++s) {
                        xs[s] = simd_batch(x[s * x_stride + k]);
                        xs_second[s] = simd_batch(x[s * x_stride + split + k]);
                    }
                    step(k, xs, xs_second);
                }
            // An odd In leaves the second half one step longer.
            accumulate_features<S, R>(kernel, kernel_stride, x, x_stride, 2 * split, In, second);
        } else {
            accumulate_features<S, R>(kernel, kernel_stride, x, x_stride, 0, split, acc);
            accumulate_features<S, R>(kernel, kernel_stride, x, x_stride, split, In, second);
        }
        XFUSE_UNROLL
        for (std::size_t s = 0; s < S; ++s) {
            XFUSE_UNROLL
            for (std::size_t j = 0; j < R; ++j)
                acc[s][j] += second[s][j];
        }
    }
    // Register by register: a whole-array assignment becomes a stack copy and a memcpy.
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            result[s][j] = acc[s][j];
    }
}

// accumulate_rows as a call of its own, for epilogues with constants (exp's polynomial, masks):
// inlined, those would stay live across the loop and push the accumulators out of registers.
// The accumulators then go through memory once (S * R stores and loads per block).
template <std::size_t In, std::size_t S, std::size_t R>
[[gnu::noinline]] void accumulate_block(const float* kernel, std::size_t kernel_stride,
                                        const float* bias, const float* x, std::size_t x_stride,
                                        accumulator_block<S, R>& result) noexcept {
    accumulate_rows<In, S, R>(kernel, kernel_stride, bias, x, x_stride, result);
}

}  // namespace detail

// Stores a block's accumulators, each through f, to S rows y_stride floats apart from y.
template <std::size_t S, std::size_t R, class F>
[[gnu::always_inline]] inline void store_block(const accumulator_block<S, R>& acc, float* y,
                                               std::size_t y_stride, F f) noexcept {
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            f(acc[s][j]).store_aligned(y + s * y_stride + j * simd_width);
    }
}

// Activations whose epilogue needs no constant register (relu's 0 is a register zeroed in
// place): their product is inlined into the loop over blocks, so the accumulators never leave
// the registers.
template <class Activation>
inline constexpr bool epilogue_without_constants =
    std::is_same_v<Activation, linear_t> || std::is_same_v<Activation, relu_t>;

// The S softmax rows of N values of a block held in registers: each register becomes
// exp(value - row max), padding lanes 0 (they are masked to -inf first, so they never reach the
// max or the sum); lane_sums[s] gets row s's sum spread over the lanes (its horizontal sum is at
// least 1: the max contributes exp(0)). Phase by phase over the rows (every row's max, then the
// exps register by register across the rows), so the rows' independent chains sit side by side
// for the out-of-order core: row after row, the reductions' latency left the FMA ports idle.
template <std::size_t N, std::size_t S, std::size_t R>
[[gnu::always_inline]] inline void exponentiate_softmax_rows(
    accumulator_block<S, R>& acc, std::array<simd_batch, S>& lane_sums) noexcept {
    constexpr std::size_t tail = N - (R - 1) * simd_width;
    std::array<simd_batch, S> row_max;
    XFUSE_UNROLL
    for (std::size_t s = 0; s < S; ++s) {
        if constexpr (tail != simd_width)
            acc[s][R - 1] = xsimd::select(xfuse::detail::first_lanes(tail), acc[s][R - 1],
                                          simd_batch(-std::numeric_limits<float>::infinity()));
        simd_batch lanes_max = acc[s][0];
        XFUSE_UNROLL
        for (std::size_t j = 1; j < R; ++j)
            lanes_max = xsimd::max(lanes_max, acc[s][j]);
        row_max[s] = simd_batch(xfuse::detail::horizontal_max(lanes_max));
        lane_sums[s] = simd_batch(0.0f);
    }
    XFUSE_UNROLL
    for (std::size_t j = 0; j < R; ++j) {
        XFUSE_UNROLL
        for (std::size_t s = 0; s < S; ++s) {
            acc[s][j] = xfuse::detail::softmax_exp(acc[s][j] - row_max[s]);
            lane_sums[s] += acc[s][j];
        }
    }
}

namespace detail {

template <std::size_t In, std::size_t Out, std::size_t S, std::size_t R, bool InlineProduct,
          class Epilogue>
[[gnu::always_inline]] inline void dense_block(const float* kernel, const float* bias,
                                               const float* x, std::size_t x_stride,
                                               std::size_t row, std::size_t column,
                                               Epilogue& epilogue) {
    accumulator_block<S, R> acc;
    if constexpr (InlineProduct)
        accumulate_rows<In, S, R>(kernel + column, padded(Out), bias ? bias + column : nullptr,
                                  x + row * x_stride, x_stride, acc);
    else
        accumulate_block<In, S, R>(kernel + column, padded(Out), bias ? bias + column : nullptr,
                                   x + row * x_stride, x_stride, acc);
    epilogue(acc, row, column);
}

template <std::size_t In, std::size_t Out, std::size_t S, bool InlineProduct, class Epilogue>
[[gnu::always_inline]] inline void dense_row_block(const float* kernel, const float* bias,
                                                   const float* x, std::size_t x_stride,
                                                   std::size_t row, Epilogue& epilogue) {
    using blocking = dense_blocking<Out>;
    constexpr std::size_t registers = S == 1 ? blocking::lone_row_registers : blocking::registers;
    constexpr std::size_t full_blocks = blocking::row_registers / registers;
    constexpr std::size_t rest = blocking::row_registers % registers;
    for (std::size_t b = 0; b < full_blocks; ++b)
        dense_block<In, Out, S, registers, InlineProduct>(kernel, bias, x, x_stride, row,
                                                          b * registers * simd_width, epilogue);
    if constexpr (rest != 0)
        dense_block<In, Out, S, rest, InlineProduct>(
            kernel, bias, x, x_stride, row, full_blocks * registers * simd_width, epilogue);
}

}  // namespace detail

// Runs `rows` rows through blocks of S rows (the remainder one row at a time), handing each
// block to `epilogue(acc, first_row, column)` with `column` the block's first output float.
// The kernel is (In, padded(Out)) and the bias padded(Out) (or null). InlineProduct: the
// epilogue has no constants (epilogue_without_constants), so the product may be inlined.
template <std::size_t In, std::size_t Out, bool InlineProduct = false, class Epilogue>
[[gnu::always_inline]] inline void for_each_dense_block(const float* kernel, const float* bias,
                                                        const float* x, std::size_t x_stride,
                                                        std::size_t rows, Epilogue&& epilogue) {
    constexpr std::size_t block_rows = dense_blocking<Out>::rows;
    const std::size_t blocked = rows / block_rows * block_rows;
    for (std::size_t row = 0; row < blocked; row += block_rows)
        detail::dense_row_block<In, Out, block_rows, InlineProduct>(kernel, bias, x, x_stride, row,
                                                                    epilogue);
    for (std::size_t row = blocked; row < rows; ++row)
        detail::dense_row_block<In, Out, 1, InlineProduct>(kernel, bias, x, x_stride, row,
                                                           epilogue);
}

// A Dense of one unit (a binary classifier's output) whose activation has constants: each
// block's values, one per row, packed into one register so that the activation runs once per
// block instead of once per row. A block of 8 rows leaves room for the constants, so the
// product is inlined too. Only where the target moves lanes within registers (elsewhere the
// packing would go through memory).
template <class Activation, std::size_t Out>
inline constexpr bool packs_single_unit =
    arch::moves_lanes_in_registers&& Out == 1 && ElementwiseActivation<Activation> &&
    !epilogue_without_constants<Activation>;

namespace detail {

template <std::size_t In, class Activation>
void single_unit_rows(const float* kernel, const float* bias, const float* x, std::size_t x_stride,
                      float* y, std::size_t y_stride, std::size_t rows) noexcept {
    for_each_dense_block<In, 1, true>(
        kernel, bias, x, x_stride, rows,
        [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                          std::size_t) {
            static_assert(R == 1 && S <= simd_width);
            simd_batch packed = acc[0][0];  // row s's value into lane s
            XFUSE_UNROLL
            for (std::size_t s = 1; s < S; ++s)
                packed = arch::with_lane(packed, s, acc[s][0]);
            const simd_batch values = Activation::apply(packed);
            XFUSE_UNROLL
            for (std::size_t s = 0; s < S; ++s)  // lane s back to lane 0, padding lanes 0
                arch::lane_to_first(values, s).store_aligned(y + (row + s) * y_stride);
        });
}

}  // namespace detail

// Dense with its activation applied in registers, stored once. Rows of x are x_stride floats
// apart and rows of y y_stride apart (a Dense feeding a Concatenate writes into its slice).
template <std::size_t In, std::size_t Out, class Activation>
void dense_activation_rows(const float* kernel, const float* bias, const float* x,
                           std::size_t x_stride, float* y, std::size_t y_stride,
                           std::size_t rows) noexcept {
    if constexpr (packs_single_unit<Activation, Out>) {
        detail::single_unit_rows<In, Activation>(kernel, bias, x, x_stride, y, y_stride, rows);
    } else if constexpr (ElementwiseActivation<Activation>) {
        for_each_dense_block<In, Out, epilogue_without_constants<Activation>>(
            kernel, bias, x, x_stride, rows,
            [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                              std::size_t column) {
                store_block(acc, y + row * y_stride + column, y_stride,
                            [](const simd_batch& value) { return Activation::apply(value); });
            });
    } else if constexpr (std::is_same_v<Activation, softmax_t> && dense_blocking<Out>::whole_row) {
        for_each_dense_block<In, Out>(
            kernel, bias, x, x_stride, rows,
            [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                              std::size_t) {
                std::array<simd_batch, S> lane_sums;
                exponentiate_softmax_rows<Out>(acc, lane_sums);
                XFUSE_UNROLL
                for (std::size_t s = 0; s < S; ++s) {
                    const simd_batch inverse_sum(1.0f / xsimd::hadd(lane_sums[s]));
                    XFUSE_UNROLL
                    for (std::size_t j = 0; j < R; ++j)
                        (acc[s][j] * inverse_sum)
                            .store_aligned(y + (row + s) * y_stride + j * simd_width);
                }
            });
    } else {
        // A row-wise activation over a row wider than the registers: store, then one pass.
        dense_activation_rows<In, Out, linear_t>(kernel, bias, x, x_stride, y, y_stride, rows);
        for (std::size_t r = 0; r < rows; ++r)
            Activation::apply_row(y + r * y_stride, Out);
    }
}

}  // namespace xfuse::kernels
