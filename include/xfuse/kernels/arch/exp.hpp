// The two steps of an exp that AVX-512 has instructions for: splitting t into its nearest
// integer n and the rest f = t - n (vrndscaleps, vreduceps), and scaling by 2^n (vscalefps).
// Elsewhere the same results from xsimd or scalar code, slower: there the kernels keep xsimd's
// exp (has_scalef and has_exponent_split say which path is fast).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

inline constexpr bool has_scalef = XSIMD_WITH_AVX512F;
inline constexpr bool has_exponent_split = XSIMD_WITH_AVX512DQ;

// p 2^n for n integral (or +-inf): underflows to exactly 0 and maps n = -inf to 0 (for finite
// p), as vscalefps does.
inline simd_batch scalef(const simd_batch& p, const simd_batch& n) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_scalef_ps(p, n);
#else
    alignas(buffer_alignment) float ps[simd_width];
    alignas(buffer_alignment) float ns[simd_width];
    p.store_aligned(ps);
    n.store_aligned(ns);
    for (std::size_t i = 0; i < simd_width; ++i) {
        // Beyond +-300 every float result is already 0 or infinite; std::ldexp needs an int.
        const float e = ns[i] < -300.0f ? -300.0f : (ns[i] > 300.0f ? 300.0f : ns[i]);
        ps[i] = std::ldexp(ps[i], static_cast<int>(e));
    }
    return simd_batch::load_aligned(ps);
#endif
}

// n = t rounded to the nearest integer (ties to even) and f = t - n in [-1/2, 1/2]; t = -inf
// gives n = -inf and f = 0, so that scalef(2^f, n) is 0.
inline void split_exponent(const simd_batch& t, simd_batch& n, simd_batch& f) noexcept {
#if XSIMD_WITH_AVX512DQ
    n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT);
    f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEAREST_INT);
#else
    n = xsimd::nearbyint(t);
    f = xsimd::select(xsimd::isinf(t), simd_batch(0.0f), t - n);
#endif
}

}  // namespace xfuse::kernels::arch
