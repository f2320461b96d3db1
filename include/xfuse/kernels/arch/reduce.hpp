// Horizontal reductions of one register: the largest lane. (The sum is xsimd::hadd.)
#pragma once

#include <cstddef>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

// The largest of the lanes. xsimd has hadd but no reduce_max; a softmax needs one per row, so a
// scalar loop over 16 lanes would cost as much as its exps where the target has a shuffle tree.
inline float horizontal_max(const simd_batch& lanes) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_reduce_max_ps(lanes);
#elif XSIMD_WITH_AVX
    const __m256 m = lanes;
    __m128 half = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    half = _mm_max_ps(half, _mm_movehl_ps(half, half));
    half = _mm_max_ss(half, _mm_movehdup_ps(half));
    return _mm_cvtss_f32(half);
#else
    alignas(buffer_alignment) float values[simd_width];
    lanes.store_aligned(values);
    float result = values[0];
    for (std::size_t i = 1; i < simd_width; ++i)
        result = values[i] > result ? values[i] : result;
    return result;
#endif
}

}  // namespace xfuse::kernels::arch
