// The fused backward of the attention block s = Dot(x, a), a = softmax(x W + b), for samples
// that are vectors of N features (the seed model: N = 96).
//
// Given ds = dL/ds (one float per sample), the unfused chain would write da = ds x (Dot), then
// dz = a (da - <da, a>) (softmax), then run the Dense products. Here <da, a> = ds <x, a> = ds s,
// and s is the forward's own output, so the softmax Jacobian-vector product needs no reduction:
//     dz = ds a (x - s),   dx += ds a   (the Dot's share of x's gradient),
// computed per tile of samples straight into the Dense backward's dz tile (dense_backward.hpp),
// which then adds dW += x^T dz, db += dz and dx += dz W^T while the tile is in L1. Neither da
// nor dz exists as a whole buffer, and one pass over x and a replaces the Dot's, the softmax's
// two and the copy into the Dense's tile.
#pragma once

#include <cstddef>

#include "../core/config.hpp"
#include "activations.hpp"

namespace xfuse::kernels {

// The dz-tile producer for Dense::run_backward (kernels::dense_backward's make_dz). x, a: the
// block's input and attention weights, padded(N) floats per sample; s, ds: the Dot's output and
// its gradient, padded(1) floats per sample; x_grad may be null.
template <std::size_t N>
auto attention_dz_tiles(const float* x, const float* a, const float* s, const float* ds,
                        float* x_grad) noexcept {
    return [=](std::size_t first, std::size_t count, float* dz) noexcept {
        constexpr std::size_t stride = padded(N);
        constexpr std::size_t scalar_stride = padded(1);
        const simd_batch zero(0.0f);
        for (std::size_t r = 0; r < count; ++r) {
            const std::size_t sample = first + r;
            const simd_batch g(ds[sample * scalar_stride]);
            const simd_batch dot(s[sample * scalar_stride]);
            const float* x_row = x + sample * stride;
            const float* a_row = a + sample * stride;
            float* dz_row = dz + r * stride;
            for (std::size_t i = 0; i < stride; i += simd_width) {
                const simd_batch ga = g * simd_batch::load_aligned(a_row + i);
                simd_batch d = ga * (simd_batch::load_aligned(x_row + i) - dot);
                if (i + simd_width > N)  // padding lanes of x may hold anything
                    d = xsimd::select(xfuse::detail::first_lanes(N - i), d, zero);
                d.store_aligned(dz_row + i);
                if (x_grad) {
                    float* dx = x_grad + sample * stride + i;
                    (simd_batch::load_aligned(dx) + ga).store_aligned(dx);
                }
            }
        }
    };
}

}  // namespace xfuse::kernels
