// Element-wise merges of k equally shaped buffers, a full SIMD register at a time (buffers are
// padded, so `count` is a multiple of the SIMD width and padding lanes are computed harmlessly).
#pragma once

#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

struct add_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return a + b; }
    static simd_batch finish(simd_batch a, std::size_t) noexcept { return a; }
};
struct subtract_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return a - b; }
    static simd_batch finish(simd_batch a, std::size_t) noexcept { return a; }
};
struct multiply_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return a * b; }
    static simd_batch finish(simd_batch a, std::size_t) noexcept { return a; }
};
struct average_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return a + b; }
    static simd_batch finish(simd_batch a, std::size_t k) noexcept {
        return a * simd_batch(1.0f / static_cast<float>(k));
    }
};
struct maximum_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return xsimd::max(a, b); }
    static simd_batch finish(simd_batch a, std::size_t) noexcept { return a; }
};
struct minimum_op {
    static simd_batch combine(simd_batch a, simd_batch b) noexcept { return xsimd::min(a, b); }
    static simd_batch finish(simd_batch a, std::size_t) noexcept { return a; }
};

template <class Op>
void merge(const float* const* inputs, std::size_t k, float* out, std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; i += simd_width) {
        simd_batch acc = simd_batch::load_aligned(inputs[0] + i);
        for (std::size_t j = 1; j < k; ++j)
            acc = Op::combine(acc, simd_batch::load_aligned(inputs[j] + i));
        Op::finish(acc, k).store_aligned(out + i);
    }
}

}  // namespace xfuse::kernels
