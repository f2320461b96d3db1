// Samples between the user's contiguous rows and the plans' padded rows (each row of a sample
// starts on a SIMD register boundary): the plans, the single-sample call and the trainer stage
// their inputs and read their outputs with these.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../core/config.hpp"
#include "../core/shape.hpp"

namespace xfuse::detail {

// One row of N floats into a padded row, padding lanes zeroed: whole registers, then the last
// partial one with a masked load where the target has one (it never reads past the row, so the
// last row of a batch is safe). Every sample that predict and fit see is copied like this, so
// the copy moves whole registers rather than calling std::copy_n and std::fill per row.
template <std::size_t N>
void copy_to_padded_row(const float* source, float* destination) noexcept {
    std::size_t i = 0;
    for (; i + simd_width <= N; i += simd_width)
        simd_batch::load_unaligned(source + i).store_aligned(destination + i);
    if constexpr (N % simd_width != 0) {
#if XSIMD_WITH_AVX512F
        _mm512_store_ps(destination + i,
                        _mm512_maskz_loadu_ps((__mmask16(1) << (N % simd_width)) - 1, source + i));
#else
        std::fill(std::copy_n(source + i, N % simd_width, destination + i),
                  destination + i + simd_width, 0.0f);
#endif
    }
}

// Copies `samples` samples (contiguous, S::size floats each) into padded rows, and back.
template <Shape S>
void pad_samples(const float* source, std::size_t samples, float* destination) noexcept {
    // Padding lanes are zeroed: kernels never read them into a result, but whole-row SIMD
    // operations (merges) touch them, and scratch is not initialised.
    for (std::size_t r = 0; r < samples * S::rows; ++r)
        copy_to_padded_row<S::last>(source + r * S::last, destination + r * S::row_stride);
}
template <Shape S>
void unpad_samples(const float* source, std::size_t samples, float* destination) noexcept {
    for (std::size_t r = 0; r < samples * S::rows; ++r)
        std::copy_n(source + r * S::row_stride, S::last, destination + r * S::last);
}

}  // namespace xfuse::detail
