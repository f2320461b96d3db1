// Dense backward: given dz = dL/d(x W + b) for `rows` rows, accumulates
//   dW += x^T dz,   db += sum over rows of dz,   dx += dz W^T.
//
// Rows are processed in tiles of `dense_backward_tile` rows. The caller's make_dz writes one
// tile of dz into a small aligned buffer on the stack (the activation's Jacobian, or the fused
// attention's); the tile stays in L1 while the three products read it, so dz is never written
// to memory as a whole.
//
// Blocking:
// - dW += x^T dz, the hot product (96 x 96 in the seed model): a group of G registers of dz
//   columns for all T rows of the tile is held in T*G registers; for each input feature i one
//   row-group of dW is loaded, receives T*G FMAs (x[r, i] broadcast), and is stored. Each dW
//   load/store thus feeds T FMAs (T = 8; G = 2 with 32 registers, 1 with 16). 8 rows rather
//   than 4 halve the dW traffic per FMA.
// - dx += dz W^T, for 8 rows or more: W^T is made once per call (kernels/transpose.hpp, on the
//   stack while it fits in 64 KiB) and the product runs as a forward Dense of W^T over dz, the
//   register-blocked kernel of dense_tile.hpp, whose blocks reuse each weight load for several
//   rows where the per-row reduction below loads a weight per FMA.
// - dx for fewer rows (the transpose would cost more than it saves), per row: simd_width input
//   features at a time, one accumulator each, summing dz[r, :] * W[i, :] over the output
//   registers; xsimd::haddp then reduces the simd_width accumulators into one register of dx at
//   once (in the lane order haddp really has, see haddp_feature_of_row). One weight load per
//   FMA: L1-bandwidth bound.
// Padding lanes of dz must be 0 (make_dz's contract), so the padding lanes of dW and db stay 0.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "../core/config.hpp"
#include "dense_tile.hpp"
#include "transpose.hpp"

namespace xfuse::kernels {

inline constexpr std::size_t dense_backward_tile = 8;

// Whether dx = dz W^T goes through a transposed copy of W on the stack (up to 64 KiB).
template <std::size_t In, std::size_t Out>
inline constexpr bool transposed_input_grad = padded(Out) * padded(In) * sizeof(float) <= 64 * 1024;

namespace detail {

inline constexpr std::size_t dense_backward_group = simd_registers >= 32 ? 2 : 1;

// dW[:, columns of the group] += x^T dz for the tile's Rows rows and Group registers.
template <std::size_t Rows, std::size_t Group, std::size_t In, std::size_t Out>
inline void kernel_grad_group(const float* x, const float* dz, float* kernel_grad) noexcept {
    constexpr std::size_t x_stride = padded(In);
    constexpr std::size_t y_stride = padded(Out);
    simd_batch d[Rows][Group];
    XFUSE_UNROLL
    for (std::size_t r = 0; r < Rows; ++r) {
        XFUSE_UNROLL
        for (std::size_t g = 0; g < Group; ++g)
            d[r][g] = simd_batch::load_aligned(dz + r * y_stride + g * simd_width);
    }
    for (std::size_t i = 0; i < In; ++i) {
        float* w = kernel_grad + i * y_stride;
        simd_batch acc[Group];
        XFUSE_UNROLL
        for (std::size_t g = 0; g < Group; ++g)
            acc[g] = simd_batch::load_aligned(w + g * simd_width);
        XFUSE_UNROLL
        for (std::size_t r = 0; r < Rows; ++r) {
            const simd_batch xi(x[r * x_stride + i]);
            XFUSE_UNROLL
            for (std::size_t g = 0; g < Group; ++g)
                acc[g] = xsimd::fma(xi, d[r][g], acc[g]);
        }
        XFUSE_UNROLL
        for (std::size_t g = 0; g < Group; ++g)
            acc[g].store_aligned(w + g * simd_width);
    }
}

// xsimd::haddp(rows) puts the sum of each row in one lane, but not in every architecture's
// version in the rows' order: xsimd 8.1's AVX-512 float haddp swaps lanes 2-3 with 4-5 in each
// half. The order is measured once, by reducing rows of known values: accumulator k must then
// hold the feature whose sum lands in lane k's place.
inline const std::array<std::size_t, simd_width>& haddp_feature_of_row() noexcept {
    static const std::array<std::size_t, simd_width> feature = [] {
        simd_batch rows[simd_width];
        for (std::size_t k = 0; k < simd_width; ++k)
            rows[k] = simd_batch(static_cast<float>(k));
        alignas(buffer_alignment) float sums[simd_width];
        xsimd::haddp(rows).store_aligned(sums);
        std::array<std::size_t, simd_width> result{};
        for (std::size_t lane = 0; lane < simd_width; ++lane)
            result[static_cast<std::size_t>(sums[lane]) / simd_width] = lane;
        return result;
    }();
    return feature;
}

// dx[i0 .. i0 + Count) of one row += dz W^T, Count <= simd_width; `kernel` points at row i0.
template <std::size_t Count, std::size_t Out>
inline void input_grad_block(const float* kernel, const float* dz, float* dx,
                             const std::array<std::size_t, simd_width>& feature_of_row) noexcept {
    constexpr std::size_t y_stride = padded(Out);
    // Accumulators of features past Count (a row's last block) read a row of zeros.
    alignas(buffer_alignment) static constexpr float zero_row[y_stride]{};
    const float* rows[simd_width];
    XFUSE_UNROLL
    for (std::size_t k = 0; k < simd_width; ++k)
        rows[k] = feature_of_row[k] < Count ? kernel + feature_of_row[k] * y_stride : zero_row;
    simd_batch acc[simd_width];
    XFUSE_UNROLL
    for (std::size_t k = 0; k < simd_width; ++k)
        acc[k] = simd_batch(0.0f);
    for (std::size_t j = 0; j < y_stride; j += simd_width) {
        const simd_batch d = simd_batch::load_aligned(dz + j);
        XFUSE_UNROLL
        for (std::size_t k = 0; k < simd_width; ++k)
            acc[k] = xsimd::fma(d, simd_batch::load_aligned(rows[k] + j), acc[k]);
    }
    (simd_batch::load_aligned(dx) + xsimd::haddp(acc)).store_aligned(dx);
}

template <std::size_t Rows, std::size_t In, std::size_t Out>
void dense_backward_tile_rows(const float* kernel, float* kernel_grad, float* bias_grad,
                              const float* x, float* x_grad, const float* dz) noexcept {
    constexpr std::size_t x_stride = padded(In);
    constexpr std::size_t y_stride = padded(Out);
    constexpr std::size_t registers = y_stride / simd_width;
    constexpr std::size_t group = dense_backward_group;

    if (bias_grad) {
        for (std::size_t j = 0; j < y_stride; j += simd_width) {
            simd_batch sum = simd_batch::load_aligned(bias_grad + j);
            for (std::size_t r = 0; r < Rows; ++r)
                sum += simd_batch::load_aligned(dz + r * y_stride + j);
            sum.store_aligned(bias_grad + j);
        }
    }

    for (std::size_t g = 0; g + group <= registers; g += group)
        kernel_grad_group<Rows, group, In, Out>(x, dz + g * simd_width,
                                                kernel_grad + g * simd_width);
    if constexpr (registers % group != 0) {
        constexpr std::size_t first = registers / group * group;
        kernel_grad_group<Rows, registers % group, In, Out>(x, dz + first * simd_width,
                                                            kernel_grad + first * simd_width);
    }

    if (x_grad) {
        constexpr std::size_t full_blocks = In / simd_width;
        const auto& feature_of_row = haddp_feature_of_row();
        for (std::size_t r = 0; r < Rows; ++r) {
            const float* dz_row = dz + r * y_stride;
            float* dx_row = x_grad + r * x_stride;
            for (std::size_t b = 0; b < full_blocks; ++b)
                input_grad_block<simd_width, Out>(kernel + b * simd_width * y_stride, dz_row,
                                                  dx_row + b * simd_width, feature_of_row);
            if constexpr (In % simd_width != 0)
                input_grad_block<In % simd_width, Out>(kernel + full_blocks * simd_width * y_stride,
                                                       dz_row, dx_row + full_blocks * simd_width,
                                                       feature_of_row);
        }
    }
}

// Calls the Rows-specialised tile for a run-time count of rows in [1, dense_backward_tile].
template <std::size_t In, std::size_t Out, std::size_t... R>
void dense_backward_some_rows(std::index_sequence<R...>, std::size_t rows, const float* kernel,
                              float* kernel_grad, float* bias_grad, const float* x, float* x_grad,
                              const float* dz) noexcept {
    ((rows == R + 1
          ? dense_backward_tile_rows<R + 1, In, Out>(kernel, kernel_grad, bias_grad, x, x_grad, dz)
          : void()),
     ...);
}

// dx += dz W^T for `rows` rows, as a forward Dense of W^T over dz (register-blocked,
// kernels/dense_tile.hpp), accumulating into dx.
template <std::size_t In, std::size_t Out>
inline void input_grad_transposed(const float* kernel_t, const float* dz, float* x_grad,
                                  std::size_t rows) noexcept {
    constexpr std::size_t x_stride = padded(In);
    for_each_dense_block<Out, In>(
        kernel_t, nullptr, dz, padded(Out), rows,
        [&]<std::size_t S, std::size_t R>(accumulator_block<S, R>& acc, std::size_t row,
                                          std::size_t column) {
            XFUSE_UNROLL
            for (std::size_t s = 0; s < S; ++s) {
                XFUSE_UNROLL
                for (std::size_t j = 0; j < R; ++j) {
                    float* dx = x_grad + (row + s) * x_stride + column + j * simd_width;
                    (simd_batch::load_aligned(dx) + acc[s][j]).store_aligned(dx);
                }
            }
        });
}

}  // namespace detail

// kernel: (In, padded(Out)) as the forward reads it; x rows padded(In) apart; bias_grad and
// x_grad may be null (no bias, or no gradient wanted for the input). make_dz(first_row, count,
// dz) must write rows [first_row, first_row + count) of dz, padded(Out) apart and with zero
// padding lanes, into the aligned buffer dz.
template <std::size_t In, std::size_t Out, class MakeDz>
void dense_backward(const float* kernel, float* kernel_grad, float* bias_grad, const float* x,
                    float* x_grad, std::size_t rows, MakeDz&& make_dz) noexcept {
    constexpr std::size_t tile = dense_backward_tile;
    alignas(buffer_alignment) float dz[tile * padded(Out)];
    alignas(buffer_alignment) float
        kernel_t[transposed_input_grad<In, Out> ? padded(Out) * padded(In) : 1];
    const bool transposed = transposed_input_grad<In, Out> && x_grad && rows >= tile;
    if (transposed)
        transpose_padded<In, Out>(kernel, kernel_t);
    for (std::size_t first = 0; first < rows; first += tile) {
        const std::size_t count = std::min(tile, rows - first);
        make_dz(first, count, static_cast<float*>(dz));
        float* dx = x_grad ? x_grad + first * padded(In) : nullptr;
        float* tile_dx = transposed ? nullptr : dx;
        const float* x_tile = x + first * padded(In);
        if (count == tile)
            detail::dense_backward_tile_rows<tile, In, Out>(kernel, kernel_grad, bias_grad, x_tile,
                                                            tile_dx, dz);
        else
            detail::dense_backward_some_rows<In, Out>(std::make_index_sequence<tile - 1>{}, count,
                                                      kernel, kernel_grad, bias_grad, x_tile,
                                                      tile_dx, dz);
        if (transposed)
            detail::input_grad_transposed<In, Out>(kernel_t, dz, dx, count);
    }
}

}  // namespace xfuse::kernels
