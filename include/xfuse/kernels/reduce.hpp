// Reductions over n logical floats of a padded row. Padding lanes may hold anything (an
// activation of 0 is not always 0: sigmoid gives 0.5), so the tail is summed in scalar code and
// never read through a full register. Scalar products are explicit fused multiply-adds: left to
// the compiler, one inlined copy of a loop may be contracted and another not, and a sample alone
// would then differ in the last bit from the same sample in a batch.
#pragma once

#include <cmath>
#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// sum_i x[i * x_step] * y[i * y_step] for i < n; contiguous operands take the SIMD path.
inline float dot(const float* x, const float* y, std::size_t n) noexcept {
    const std::size_t full = n / simd_width * simd_width;
    simd_batch acc(0.0f);
    for (std::size_t i = 0; i < full; i += simd_width)
        acc = xsimd::fma(simd_batch::load_unaligned(x + i), simd_batch::load_unaligned(y + i), acc);
    float sum = xsimd::hadd(acc);
    for (std::size_t i = full; i < n; ++i)
        sum = std::fma(x[i], y[i], sum);
    return sum;
}

inline float strided_dot(const float* x, std::size_t x_step, const float* y, std::size_t y_step,
                         std::size_t n) noexcept {
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; ++i)
        sum = std::fma(x[i * x_step], y[i * y_step], sum);
    return sum;
}

}  // namespace xfuse::kernels
