// Samples between the user's contiguous rows and the plans' padded rows (each row of a sample
// starts on a SIMD register boundary): the plans, the single-sample call and the trainer stage
// their inputs and read their outputs with these.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../core/config.hpp"
#include "../core/shape.hpp"
#include "../kernels/arch/masked.hpp"

namespace xfuse::detail {

// One row of N floats into a padded row, padding lanes zeroed: whole registers, then the last
// partial one loaded without reading past the row (the last row of a batch is safe). Inputs are
// copied like this for every sample predict and fit see, so it runs in registers, not through
// std::copy_n and std::fill.
template <std::size_t N>
void copy_to_padded_row(const float* source, float* destination) noexcept {
    std::size_t i = 0;
    for (; i + simd_width <= N; i += simd_width)
        simd_batch::load_unaligned(source + i).store_aligned(destination + i);
    if constexpr (N % simd_width != 0)
        kernels::arch::load_first_lanes(source + i, N % simd_width).store_aligned(destination + i);
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
