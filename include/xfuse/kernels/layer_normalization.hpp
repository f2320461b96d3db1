// Layer normalisation of rows and its backward: y = (x - mean) / sqrt(var + epsilon) * gamma +
// beta over the n logical floats of each row, with the biased variance of two passes (the mean
// first, then the squared deviations from it). Without Scale gamma is 1, without Center beta is 0.
//
// Rows are padded (core/shape.hpp) and their padding lanes may hold anything, so every sum runs
// whole registers up to the last whole one and the rest in scalar code: a padding lane never
// reaches a sum, nor a parameter gradient. Each row is memory-bound (three reads of x forward,
// and the backward recomputes mean and deviation rather than storing them per row).
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "../core/config.hpp"

namespace xfuse::kernels {

namespace detail {

// A register's worth of floats at p (aligned), or the one float there.
template <class T>
T load(const float* p) noexcept {
    if constexpr (std::is_same_v<T, float>)
        return *p;
    else
        return simd_batch::load_aligned(p);
}

// The sum over i < n of term<T>(i), a value of lane i computed as a register (T = simd_batch,
// lanes i to i + simd_width) up to the last whole register and as a float (T = float) after it.
template <class Term>
float row_sum(std::size_t n, Term&& term) noexcept {
    const std::size_t full = n / simd_width * simd_width;
    simd_batch acc(0.0f);
    for (std::size_t i = 0; i < full; i += simd_width)
        acc += term.template operator()<simd_batch>(i);
    float sum = xsimd::hadd(acc);
    for (std::size_t i = full; i < n; ++i)
        sum += term.template operator()<float>(i);
    return sum;
}

// The sum over i < n of a<T>(i) b<T>(i), likewise, with explicit fused multiply-adds: the
// compiler may not contract some copies of the loop and not others, so every caller's sums, and
// with them the parameter gradients, are the same bits whichever path computed them.
template <class A, class B>
float row_dot(std::size_t n, A&& a, B&& b) noexcept {
    const std::size_t full = n / simd_width * simd_width;
    simd_batch acc(0.0f);
    for (std::size_t i = 0; i < full; i += simd_width)
        acc = xsimd::fma(a.template operator()<simd_batch>(i), b.template operator()<simd_batch>(i),
                         acc);
    float sum = xsimd::hadd(acc);
    for (std::size_t i = full; i < n; ++i)
        sum = std::fma(a.template operator()<float>(i), b.template operator()<float>(i), sum);
    return sum;
}

struct row_moments {
    float mean;
    float inverse_deviation;  // 1 / sqrt(var + epsilon)
};

inline row_moments moments(const float* x, std::size_t n, float epsilon) noexcept {
    const float inverse_n = 1.0f / static_cast<float>(n);
    const float mean =
        row_sum(n, [x]<class T>(std::size_t i) { return load<T>(x + i); }) * inverse_n;
    const auto deviation = [x, mean]<class T>(std::size_t i) { return load<T>(x + i) - mean; };
    const float variance = row_dot(n, deviation, deviation) * inverse_n;
    return {mean, 1.0f / std::sqrt(variance + epsilon)};
}

}  // namespace detail

// y rows from x rows (both `stride` floats apart); gamma and beta hold padded(n) floats, their
// padding lanes 0 (null when absent).
template <bool Scale, bool Center>
void layer_normalization_rows(const float* x, const float* gamma, const float* beta, float* y,
                              std::size_t rows, std::size_t n, std::size_t stride,
                              float epsilon) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * stride;
        float* yr = y + r * stride;
        const auto [mean, inverse_deviation] = detail::moments(xr, n, epsilon);
        for (std::size_t i = 0; i < padded(n); i += simd_width) {
            simd_batch v = (simd_batch::load_aligned(xr + i) - mean) * inverse_deviation;
            if constexpr (Scale)
                v *= simd_batch::load_aligned(gamma + i);
            if constexpr (Center)
                v += simd_batch::load_aligned(beta + i);
            v.store_aligned(yr + i);
        }
    }
}

// Adds dL/dx into dx and dL/dgamma, dL/dbeta into gamma_grad, beta_grad (null when absent or
// not wanted; dx too), given dy = dL/dy:
//   g = dy gamma, xhat = (x - mean) / sqrt(var + epsilon),
//   dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + epsilon),
//   dgamma = sum over rows of dy xhat, dbeta = sum over rows of dy.
template <bool Scale, bool Center>
void layer_normalization_backward(const float* x, const float* gamma, const float* dy, float* dx,
                                  float* gamma_grad, float* beta_grad, std::size_t rows,
                                  std::size_t n, std::size_t stride, float epsilon) noexcept {
    const float inverse_n = 1.0f / static_cast<float>(n);
    const std::size_t full = n / simd_width * simd_width;
    for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * stride;
        const float* dyr = dy + r * stride;
        const detail::row_moments m = detail::moments(xr, n, epsilon);
        const float mean = m.mean, inverse_deviation = m.inverse_deviation;
        // xhat and g = dy gamma at lane i, as registers or floats.
        auto normalized = [&]<class T>(std::size_t i) {
            return (detail::load<T>(xr + i) - mean) * inverse_deviation;
        };
        auto scaled = [&]<class T>(std::size_t i) {
            if constexpr (Scale)
                return detail::load<T>(dyr + i) * detail::load<T>(gamma + i);
            else
                return detail::load<T>(dyr + i);
        };
        if (gamma_grad || beta_grad) {
            for (std::size_t i = 0; i < full; i += simd_width) {
                const simd_batch g = simd_batch::load_aligned(dyr + i);
                if (gamma_grad)
                    xsimd::fma(g, normalized.template operator()<simd_batch>(i),
                               simd_batch::load_aligned(gamma_grad + i))
                        .store_aligned(gamma_grad + i);
                if (beta_grad)
                    (simd_batch::load_aligned(beta_grad + i) + g).store_aligned(beta_grad + i);
            }
            for (std::size_t i = full; i < n; ++i) {
                if (gamma_grad)
                    gamma_grad[i] =
                        std::fma(dyr[i], normalized.template operator()<float>(i), gamma_grad[i]);
                if (beta_grad)
                    beta_grad[i] += dyr[i];
            }
        }
        if (!dx)
            continue;
        const float mean_g = detail::row_sum(n, scaled) * inverse_n;
        const float mean_g_xhat = detail::row_dot(n, scaled, normalized) * inverse_n;
        float* dxr = dx + r * stride;
        for (std::size_t i = 0; i < padded(n); i += simd_width) {
            const simd_batch xhat = normalized.template operator()<simd_batch>(i);
            const simd_batch g = scaled.template operator()<simd_batch>(i);
            const simd_batch d = (g - mean_g - xhat * mean_g_xhat) * inverse_deviation;
            (simd_batch::load_aligned(dxr + i) + d).store_aligned(dxr + i);
        }
    }
}

}  // namespace xfuse::kernels
