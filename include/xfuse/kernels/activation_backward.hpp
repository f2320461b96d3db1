// Backward of the activations: dL/dx = dL/dy * f'(x) for every activation of
// kernels/activations.hpp, and the kernel that applies it to padded rows.
//
// f' is written in terms of the output y = f(x) wherever the formula allows (relu, sigmoid,
// tanh, elu, ...), so the backward pass needs only what the forward pass kept; the few that
// cannot (gelu, swish, silu) write it in terms of the pre-activation x, which derivative<A>
// then says it needs.
// Like the activations themselves, each formula is one template over T so that the SIMD kernel
// and a scalar double reference are the same source.
//
// Kinks follow TensorFlow's gradient kernels: relu's and leaky_relu's gradient at exactly 0
// is that of the negative side (ReluGrad: g * (x > 0)); hard_sigmoid's is 0 on the saturated
// plateaus, which from the output is 0 < y < 1 (the two boundary points have measure zero).
//
// The kernel makes one pass over rows that sit in L1, two for softmax (the row's g·y sum, then
// y (g - sum)); it is bound by loads, or by the exp of the recomputed activations.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

#include "../core/config.hpp"
#include "activations.hpp"

namespace xfuse {

namespace detail {
// What derivative_from_output and derivative_from_input hold for an activation without that
// formula.
struct no_derivative {};
template <class F>
inline constexpr bool is_no_derivative = std::same_as<std::remove_cv_t<F>, no_derivative>;
}  // namespace detail

// f' as a generic lambda of the output y = f(x) (derivative_from_output<A>), or of the
// pre-activation x where no formula in y exists (derivative_from_input<A>). Specialising one of
// them defines derivative<A>; an activation with its own kind of derivative (softmax)
// specialises derivative<A> itself.
template <class A>
inline constexpr detail::no_derivative derivative_from_output{};
template <class A>
inline constexpr detail::no_derivative derivative_from_input{};

namespace detail {
template <class A>
concept has_derivative_formula = !is_no_derivative<decltype(derivative_from_output<A>)> ||
                                 !is_no_derivative<decltype(derivative_from_input<A>)>;
}  // namespace detail

// Undefined for an activation without a derivative (a user's own): it cannot be trained, and
// saying so at the backward call is clearer than a wrong gradient.
template <class A>
struct derivative;

// needs_input: the backward pass must keep x, not only y. apply(x, y) is f' at that element.
template <class A>
requires detail::has_derivative_formula<A>
struct derivative<A> {
    static constexpr bool needs_input =
        !detail::is_no_derivative<decltype(derivative_from_input<A>)>;
    template <class T>
    static T apply(T x, T y) noexcept {
        if constexpr (needs_input)
            return derivative_from_input<A>(x);
        else
            return derivative_from_output<A>(y);
    }
};

template <>
inline constexpr auto derivative_from_output<linear_t> =
    []<class T>(T) noexcept { return detail::splat<T>(1.0); };

template <>
inline constexpr auto derivative_from_output<relu_t> = []<class T>(T y) noexcept {
    const T zero = detail::splat<T>(0.0);
    return detail::select(y > zero, detail::splat<T>(1.0), zero);
};

// y > 0 exactly where x > 0, because the slope is positive.
template <class NegativeSlope>
inline constexpr auto derivative_from_output<leaky_relu_t<NegativeSlope>> =
    []<class T>(T y) noexcept {
        return detail::select(y > detail::splat<T>(0.0), detail::splat<T>(1.0),
                              detail::splat<T>(leaky_relu_t<NegativeSlope>::negative_slope));
    };

template <>
inline constexpr auto derivative_from_output<sigmoid_t> =
    []<class T>(T y) noexcept { return y * (detail::splat<T>(1.0) - y); };

template <>
inline constexpr auto derivative_from_output<tanh_t> =
    []<class T>(T y) noexcept { return detail::splat<T>(1.0) - y * y; };

// For x <= 0, y = expm1(x), so f' = exp(x) = y + 1; y > 0 exactly where x > 0.
template <>
inline constexpr auto derivative_from_output<elu_t> = []<class T>(T y) noexcept {
    const T one = detail::splat<T>(1.0);
    return detail::select(y > detail::splat<T>(0.0), one, y + one);
};

// For x <= 0, y = scale * alpha * expm1(x), so f' = scale * alpha * exp(x) = y + scale * alpha.
template <>
inline constexpr auto derivative_from_output<selu_t> = []<class T>(T y) noexcept {
    return detail::select(y > detail::splat<T>(0.0), detail::splat<T>(selu_t::scale),
                          y + detail::splat<T>(selu_t::scale * selu_t::alpha));
};

// Phi(x) + x phi(x), with Phi written as the forward writes it.
template <>
inline constexpr auto derivative_from_input<gelu_t> = []<class T>(T x) noexcept {
    const T cdf =
        detail::splat<T>(0.5) * xsimd::erfc(x * detail::splat<T>(-0.70710678118654752440));
    const T pdf =
        detail::splat<T>(0.39894228040143267794) * xsimd::exp(detail::splat<T>(-0.5) * x * x);
    return cdf + x * pdf;
};

// sigmoid(x) = 1 - exp(-softplus(x)), written with expm1 so that it keeps its digits where
// softplus is tiny (large negative x).
template <>
inline constexpr auto derivative_from_output<softplus_t> =
    [](auto y) noexcept { return -xsimd::expm1(-y); };

// 1 / (1 + |x|)^2, and 1 - |y| = 1 / (1 + |x|).
template <>
inline constexpr auto derivative_from_output<softsign_t> = []<class T>(T y) noexcept {
    const T d = detail::splat<T>(1.0) - xsimd::abs(y);
    return d * d;
};

// (x sigmoid(x))' = s (1 + x (1 - s)) with s = sigmoid(x).
template <>
inline constexpr auto derivative_from_input<swish_t> = []<class T>(T x) noexcept {
    const T one = detail::splat<T>(1.0);
    const T s = sigmoid_t::apply(x);
    return s * (one + x * (one - s));
};

template <>
inline constexpr auto derivative_from_input<silu_t> = derivative_from_input<swish_t>;

template <>
inline constexpr auto derivative_from_output<exponential_t> = [](auto y) noexcept { return y; };

template <>
inline constexpr auto derivative_from_output<hard_sigmoid_t> = []<class T>(T y) noexcept {
    const T zero = detail::splat<T>(0.0);
    return detail::select((y > zero) && (y < detail::splat<T>(1.0)), detail::splat<T>(0.2), zero);
};

// Softmax is the one row-wise activation: its Jacobian-vector product is y (g - sum(g y)).
template <>
struct derivative<softmax_t> {
    static constexpr bool needs_input = false;
};

template <class A>
concept DifferentiableActivation = ActivationFunction<A> && requires {
    { derivative<A>::needs_input } -> std::convertible_to<bool>;
};

namespace kernels {

// d = g * f'(x) on `rows` rows of n logical floats, `stride` floats apart (aligned, stride a
// multiple of simd_width), or d += that with Accumulate. x is read only when
// derivative<A>::needs_input (it may be null otherwise); y is the forward output. Padding lanes
// of d get 0 (or +0): whatever x, y and g hold there never reaches d. d may alias x or g.
template <DifferentiableActivation A, bool Accumulate>
void activation_backward(const float* x, const float* y, const float* g, float* d, std::size_t rows,
                         std::size_t n, std::size_t stride) noexcept {
    const simd_batch zero(0.0f);
    const auto store = [&](float* to, std::size_t i, simd_batch value) {
        if (i + simd_width > n)
            value = xsimd::select(xfuse::detail::first_lanes(n - i), value, zero);
        if constexpr (Accumulate)
            value += simd_batch::load_aligned(to);
        value.store_aligned(to);
    };
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t row = r * stride;
        if constexpr (std::same_as<A, softmax_t>) {
            simd_batch dot_lanes = zero;
            for (std::size_t i = 0; i < n; i += simd_width) {
                const simd_batch gy =
                    simd_batch::load_aligned(g + row + i) * simd_batch::load_aligned(y + row + i);
                dot_lanes += i + simd_width > n
                                 ? xsimd::select(xfuse::detail::first_lanes(n - i), gy, zero)
                                 : gy;
            }
            const simd_batch dot(xsimd::hadd(dot_lanes));
            for (std::size_t i = 0; i < n; i += simd_width) {
                const simd_batch yi = simd_batch::load_aligned(y + row + i);
                store(d + row + i, i, yi * (simd_batch::load_aligned(g + row + i) - dot));
            }
        } else {
            for (std::size_t i = 0; i < n; i += simd_width) {
                const simd_batch yi = simd_batch::load_aligned(y + row + i);
                const simd_batch xi =
                    derivative<A>::needs_input ? simd_batch::load_aligned(x + row + i) : yi;
                store(d + row + i, i,
                      simd_batch::load_aligned(g + row + i) * derivative<A>::apply(xi, yi));
            }
        }
    }
}

}  // namespace kernels

}  // namespace xfuse
