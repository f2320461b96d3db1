// Moving floats between the lanes of registers: one lane into every lane (a broadcast from a
// register rather than from memory), and one value per row packed into, or taken out of, one
// register. AVX-512 has one permute or masked broadcast for each; elsewhere they go through
// memory, which is correct but no faster than the scalar loads the kernels use there
// (moves_lanes_in_registers says which).
#pragma once

#include <cstddef>

#include "../../core/config.hpp"

#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

namespace xfuse::kernels::arch {

inline constexpr bool moves_lanes_in_registers = XSIMD_WITH_AVX512F;

// Walks the lanes of registers in order, broadcasting the current one:
//   lane_broadcast b; b(block) is block's lane 0 everywhere; b.next(); b(block) lane 1; ...
class lane_broadcast {
  public:
#if XSIMD_WITH_AVX512F
    // vpermps, zero-masked with every lane kept: g++ 12 warns that the plain intrinsic's
    // undefined source register is used uninitialised.
    [[gnu::always_inline]] simd_batch operator()(const simd_batch& values) const noexcept {
        return _mm512_maskz_permutexvar_ps(__mmask16(0xFFFF), lane_, values);
    }
    [[gnu::always_inline]] void next() noexcept {
        lane_ = _mm512_add_epi32(lane_, _mm512_set1_epi32(1));
        asm("" : "+v"(lane_));  // kept a register, not 16 constants from memory
    }
    [[gnu::always_inline]] void reset() noexcept {
        lane_ = _mm512_setzero_si512();
    }

  private:
    __m512i lane_ = _mm512_setzero_si512();
#else
    simd_batch operator()(const simd_batch& values) const noexcept {
        alignas(buffer_alignment) float lanes[simd_width];
        values.store_aligned(lanes);
        return simd_batch(lanes[lane_]);
    }
    void next() noexcept {
        ++lane_;
    }
    void reset() noexcept {
        lane_ = 0;
    }

  private:
    std::size_t lane_ = 0;
#endif
};

// `packed` with lane `lane` replaced by lane 0 of `value`.
[[gnu::always_inline]] inline simd_batch with_lane(const simd_batch& packed, std::size_t lane,
                                                   const simd_batch& value) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_mask_broadcastss_ps(packed, __mmask16(1u << lane), _mm512_castps512_ps128(value));
#else
    alignas(buffer_alignment) float lanes[simd_width];
    packed.store_aligned(lanes);
    lanes[lane] = value.get(0);
    return simd_batch::load_aligned(lanes);
#endif
}

// Lane `lane` of `values` in lane 0, and 0 in every other lane.
[[gnu::always_inline]] inline simd_batch lane_to_first(const simd_batch& values,
                                                       std::size_t lane) noexcept {
#if XSIMD_WITH_AVX512F
    return _mm512_maskz_permutexvar_ps(1, _mm512_set1_epi32(static_cast<int>(lane)), values);
#else
    alignas(buffer_alignment) float lanes[simd_width] = {};
    lanes[0] = values.get(lane);
    return simd_batch::load_aligned(lanes);
#endif
}

}  // namespace xfuse::kernels::arch
