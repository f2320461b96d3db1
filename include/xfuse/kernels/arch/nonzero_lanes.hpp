// Which lanes of a register hold something other than zero (+0 or -0), as a bit per lane (lane
// i in bit i); a NaN is not zero. One compare and one mask move on x86; elsewhere the lanes go
// through memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX512F || XSIMD_WITH_AVX || XSIMD_WITH_SSE2
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

[[gnu::always_inline]] inline std::uint32_t nonzero_lanes(const simd_batch& values) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_cmp_ps_mask(values, _mm512_setzero_ps(), _CMP_NEQ_UQ);
#elif XSIMD_WITH_AVX
    return std::uint32_t(
        _mm256_movemask_ps(_mm256_cmp_ps(values, _mm256_setzero_ps(), _CMP_NEQ_UQ)));
#elif XSIMD_WITH_SSE2
    return std::uint32_t(_mm_movemask_ps(_mm_cmpneq_ps(values, _mm_setzero_ps())));
#else
    alignas(buffer_alignment) float lanes[simd_width];
    values.store_aligned(lanes);
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < simd_width; ++i)
        bits |= std::uint32_t(lanes[i] != 0.0f) << i;
    return bits;
#endif
}

}  // namespace xfuse::kernels::arch
