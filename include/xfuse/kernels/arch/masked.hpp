// Loading the first lanes of a register from memory that may end right after them.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

// The `count` floats at `source` (count <= simd_width, any alignment) in the first lanes, 0 in
// the rest; nothing past source + count is read, so the last row of a buffer is safe. AVX-512
// masks the load; elsewhere the floats go through a zeroed register-sized buffer.
inline simd_batch load_first_lanes(const float* source, std::size_t count) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), source);
#else
    alignas(buffer_alignment) float lanes[simd_width] = {};
    std::copy_n(source, count, lanes);
    return simd_batch::load_aligned(lanes);
#endif
}

}  // namespace xfuse::kernels::arch
