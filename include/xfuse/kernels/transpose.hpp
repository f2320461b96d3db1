// Transposing a padded matrix: W^T from W, for the backward's dx = dz W^T (dense_backward.hpp),
// which then runs as a register-blocked forward product over W^T instead of one reduction per
// input feature.
//
// On AVX-512, 16 x 16 blocks go through registers in four rounds of in-register shuffles (16
// loads, 64 shuffles, 16 stores per block); a 96 x 96 kernel takes a quarter of the scalar
// loop's time. Elsewhere, and for the rows of a block past the matrix's last row, a scalar loop.
#pragma once

#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

namespace detail {

#if XSIMD_WITH_AVX512F
// Transposes the 16 x 16 block at `from` (rows from_stride floats apart) to `to` (rows to_stride
// apart). Both are 64-byte aligned.
inline void transpose_block_16(const float* from, std::size_t from_stride, float* to,
                               std::size_t to_stride) noexcept {
    __m512 r[16], t[16];
    for (std::size_t k = 0; k < 16; ++k)
        r[k] = _mm512_load_ps(from + k * from_stride);
    // Round 1: interleave the floats of row pairs (within each 128-bit lane).
    for (std::size_t k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    // Round 2: interleave float pairs, giving 4 x 4 transposed blocks in each 128-bit lane.
    for (std::size_t b = 0; b < 16; b += 4)
        for (std::size_t m = 0; m < 2; ++m) {
            const __m512d low = _mm512_castps_pd(t[b + m]);
            const __m512d high = _mm512_castps_pd(t[b + m + 2]);
            r[b + 2 * m] = _mm512_castpd_ps(_mm512_unpacklo_pd(low, high));
            r[b + 2 * m + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(low, high));
        }
    // Rounds 3 and 4: move the 128-bit lanes into place.
    for (std::size_t b = 0; b < 16; b += 8)
        for (std::size_t m = 0; m < 4; ++m) {
            t[b + m] = _mm512_shuffle_f32x4(r[b + m], r[b + m + 4], 0x88);
            t[b + m + 4] = _mm512_shuffle_f32x4(r[b + m], r[b + m + 4], 0xdd);
        }
    for (std::size_t m = 0; m < 8; ++m) {
        r[m] = _mm512_shuffle_f32x4(t[m], t[m + 8], 0x88);
        r[m + 8] = _mm512_shuffle_f32x4(t[m], t[m + 8], 0xdd);
    }
    for (std::size_t k = 0; k < 16; ++k)
        _mm512_store_ps(to + k * to_stride, r[k]);
}
#endif

}  // namespace detail

// kernel_t (padded(Cols) rows, padded(Rows) floats each) = kernel^T, for kernel of Rows rows
// of padded(Cols) floats; the padding columns of kernel_t are 0, its padding rows (past Cols)
// receive kernel's padding columns.
template <std::size_t Rows, std::size_t Cols>
void transpose_padded(const float* kernel, float* kernel_t) noexcept {
    constexpr std::size_t stride = padded(Cols);
    constexpr std::size_t stride_t = padded(Rows);
    std::size_t first_scalar_row = 0;
#if XSIMD_WITH_AVX512F
    static_assert(simd_width == 16);
    first_scalar_row = Rows / 16 * 16;
    for (std::size_t i = 0; i < first_scalar_row; i += 16)
        for (std::size_t j = 0; j < stride; j += 16)
            detail::transpose_block_16(kernel + i * stride + j, stride, kernel_t + j * stride_t + i,
                                       stride_t);
#endif
    for (std::size_t j = 0; j < stride; ++j) {
        float* row = kernel_t + j * stride_t;
        for (std::size_t i = first_scalar_row; i < Rows; ++i)
            row[i] = kernel[i * stride + j];
        for (std::size_t i = Rows; i < stride_t; ++i)
            row[i] = 0.0f;
    }
}

}  // namespace xfuse::kernels
