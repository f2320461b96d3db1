// Transposing a square block of floats. AVX-512 transposes 16 x 16 in registers: 16 loads, four
// rounds of in-register shuffles (64 in all), 16 stores. Elsewhere a scalar loop over the same
// block: on those targets the caller's scalar loop over the whole matrix is used instead
// (has_block_transpose).
#pragma once

#include <cstddef>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

inline constexpr bool has_block_transpose = XSIMD_WITH_AVX512F;

// Side of the block that transpose_block handles: one register of floats.
inline constexpr std::size_t transpose_block_size = simd_width;

// The transpose_block_size-square block at `from` (rows from_stride floats apart) transposed to
// `to` (rows to_stride apart). Both aligned to buffer_alignment, strides multiples of
// simd_width.
inline void transpose_block(const float* from, std::size_t from_stride, float* to,
                            std::size_t to_stride) noexcept {
#if XSIMD_WITH_AVX512F
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
#else
    for (std::size_t i = 0; i < transpose_block_size; ++i)
        for (std::size_t j = 0; j < transpose_block_size; ++j)
            to[j * to_stride + i] = from[i * from_stride + j];
#endif
}

}  // namespace xfuse::kernels::arch
