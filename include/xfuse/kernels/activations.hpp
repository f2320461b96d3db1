// Keras' built-in activations, as empty structural types so that layers can take them as
// template arguments (`Dense<32, relu>`) and the execution plan can fuse them into the kernel
// that produces their input.
//
// Element-wise activations have one formula, a generic lambda that `apply<T>` runs, written with
// xsimd's functions; xsimd overloads them for scalars, so the SIMD kernel and the scalar path
// (T = float or double) are the same source and cannot drift apart. Constants are written once in
// double and rounded to the precision being computed.
//
// Softmax is row-wise: max, exp and sum over the n logical values of a padded row, then a
// multiply by the reciprocal of the sum (as TensorFlow's kernel does). It reads and writes whole
// registers and masks the tail, so padding lanes, whatever they hold, never enter the max or
// the sum; they come out as 0. Both kernels make one pass per step over rows that sit in L1, so
// they are bound by the exp (a few tens of instructions per register).
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ratio>
#include <string_view>

#include "../core/config.hpp"
#include "../core/fixed_string.hpp"
#include "arch/exp.hpp"
#include "arch/reduce.hpp"
#include "arch/target.hpp"

namespace xfuse {

namespace detail {

template <class R>
inline constexpr bool is_ratio = false;
template <std::intmax_t Num, std::intmax_t Den>
inline constexpr bool is_ratio<std::ratio<Num, Den>> = true;

// revert_simd_traits maps batch<float> to float and leaves scalars as they are.
template <class T>
T splat(double value) noexcept {
    return T(static_cast<typename xsimd::revert_simd_traits<T>::type>(value));
}

// xsimd 8.1 has no scalar select; this pair lets one formula branch for both.
template <class T>
T select(bool condition, T if_true, T if_false) noexcept {
    return condition ? if_true : if_false;
}
template <class T, class A>
xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& condition,
                          const xsimd::batch<T, A>& if_true,
                          const xsimd::batch<T, A>& if_false) noexcept {
    return xsimd::select(condition, if_true, if_false);
}

// Written as max(x, 0) + alpha * expm1(min(x, 0)) rather than a select, so that the branch not
// taken never overflows for large positive x.
template <class T>
T elu(T x, T alpha) noexcept {
    const T zero = splat<T>(0.0);
    return xsimd::max(x, zero) + alpha * xsimd::expm1(xsimd::min(x, zero));
}

struct alignas(buffer_alignment) lane_index_table {
    float value[simd_width];
};
inline constexpr lane_index_table lane_indices = [] {
    lane_index_table table{};
    for (std::size_t i = 0; i < simd_width; ++i)
        table.value[i] = static_cast<float>(i);
    return table;
}();

using kernels::arch::horizontal_max;

// The polynomial with these coefficients, highest degree first, at x: Horner's scheme, one FMA
// per coefficient after the first.
template <std::size_t N>
[[gnu::always_inline]] inline simd_batch horner(const simd_batch& x,
                                                const float (&highest_first)[N]) noexcept {
    simd_batch p(highest_first[0]);
    XFUSE_UNROLL
    for (std::size_t i = 1; i < N; ++i)
        p = xsimd::fma(p, x, simd_batch(highest_first[i]));
    return p;
}

// exp(x) for x <= 0, where -inf gives exactly 0: what a softmax needs once the row max is
// subtracted. xsimd::exp also guards overflow (two compares and two selects) and builds 2^n from
// its bits; with no overflow to guard, and where the target scales by 2^n in one instruction
// (arch::scalef, which also underflows to 0), 14 instructions per register in all. Cephes' expf
// reduction and polynomial (relative error about 1e-7 on [-87, 0], tests/kernels/activations.cpp).
inline simd_batch exp_nonpositive(const simd_batch& x) noexcept {
    if constexpr (kernels::arch::has_scalef) {
        // exp(-104) < 2^-150 rounds to 0; the clamp keeps -inf out of the reduction (-inf - -inf).
        const simd_batch clamped = xsimd::max(x, simd_batch(-104.0f));
        const simd_batch n = xsimd::nearbyint(clamped * simd_batch(1.44269504088896341f));
        // r = x - n ln 2, with ln 2 split in two so that n * 0.693359375 is exact.
        simd_batch r = xsimd::fnma(n, simd_batch(0.693359375f), clamped);
        r = xsimd::fnma(n, simd_batch(-2.12194440e-4f), r);
        const simd_batch p = horner(r, {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                        4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f});
        return kernels::arch::scalef(xsimd::fma(p, r * r, r) + simd_batch(1.0f), n);
    } else {
        return xsimd::exp(x);
    }
}

// exp(d) for d = x - m <= 0, x a softmax logit and m its row's max: 2^t with t = d log2(e),
// split as 2^n 2^f, n = round(t) and f = t - n in [-1/2, 1/2]: a degree-6 minimax polynomial for
// 2^f (8e-8 relative in float) and 2^n exact. 10 instructions per register where the target
// splits t and scales by 2^n in one instruction each (arch::split_exponent, arch::scalef), 13
// elsewhere (against about 20 of xsimd's exp, which guards overflow): the exps are most of the
// fused attention's epilogue. Rounding t to float costs accuracy where |d| is large: relative
// error within 1.2e-7 + 8e-8 |d| (tests/kernels/activations.cpp), 1.5e-7 for the weights within
// exp(-2) of the row's largest. exp(0) is exactly 1 and exp(-inf) exactly 0; a NaN stays NaN.
inline simd_batch softmax_exp(const simd_batch& d) noexcept {
    constexpr float exp2_coefficients[] = {1.5345811e-4f, 1.3399931e-3f, 9.618489e-3f,
                                           5.5503286e-2f, 2.4022646e-1f, 6.931472e-1f,
                                           1.0f};
    const simd_batch t = d * simd_batch(1.44269504088896341f);
    if constexpr (kernels::arch::has_exponent_split && kernels::arch::has_scalef) {
        simd_batch n, f;
        kernels::arch::split_exponent(t, n, f);
        return kernels::arch::scalef(horner(f, exp2_coefficients), n);
    } else {
        // Adding 1.5 * 2^23 + 127 rounds t to an integer n (ties to even; every float in
        // [2^23, 2^24) is an integer) and leaves n + 127 in the sum's low mantissa bits, which
        // shifted into the exponent field are the bits of 2^n. Clamped at -127 (max keeps a NaN
        // of its second operand), n + 127 stays in [0, 127]: n = -127 gives the bits of 0, so
        // exp(-inf) is exactly 0 and results below 2^-126.5 flush to 0.
        constexpr float shift = 12583039.0f;  // 1.5 * 2^23 + 127
        using int_batch = xsimd::batch<std::int32_t>;
        const simd_batch clamped = xsimd::max(simd_batch(-127.0f), t);
        const simd_batch shifted = clamped + simd_batch(shift);
        const simd_batch f = clamped - (shifted - simd_batch(shift));
        const simd_batch scale =
            xsimd::bitwise_cast<simd_batch>(xsimd::bitwise_cast<int_batch>(shifted) << 23);
        return horner(f, exp2_coefficients) * scale;
    }
}

// Scalars (the double-precision gradient checks, the scalar tails) keep xsimd's exp.
template <class T>
T exp_nonpositive(T x) noexcept {
    return xsimd::exp(x);
}

// sigmoid(x) from e = exp(-|x|), which never overflows: 1 / (1 + e) for x >= 0, e / (1 + e)
// below. Binary crossentropy's logits path has e already (train/losses.hpp).
template <class T>
T sigmoid_from_exp(T x, T e) noexcept {
    const T one = splat<T>(1.0);
    return detail::select(x >= splat<T>(0.0), one, e) / (one + e);
}

// True in the first `count` lanes: all of them except in the last register of a row.
inline simd_batch::batch_bool_type first_lanes(std::size_t count) noexcept {
    return simd_batch::load_aligned(lane_indices.value) < simd_batch(static_cast<float>(count));
}

}  // namespace detail

// ---- element-wise activations --------------------------------------------------------------

// What every element-wise activation shares: its Keras name and `apply<T>`, which runs the
// derived class' `formula` (a generic lambda) at T. Each activation stays a distinct type, so
// that overloads and fusion patterns match exactly the activation they are written for.
template <class Derived, fixed_string Name>
struct elementwise_activation {
    static constexpr std::string_view name = Name.view();
    template <class T>
    static T apply(T x) noexcept {
        return Derived::formula(x);
    }
};

struct linear_t : elementwise_activation<linear_t, "linear"> {
    static constexpr auto formula = [](auto x) noexcept { return x; };
};

struct relu_t : elementwise_activation<relu_t, "relu"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        return xsimd::max(x, detail::splat<T>(0.0));
    };
};

// Keras' leaky_relu (tf.nn.leaky_relu, Keras 3's activation): x for x > 0, else slope * x.
// The slope is a std::ratio because clang 14 has no floating-point template arguments.
template <class NegativeSlope = std::ratio<1, 5>>
requires detail::is_ratio<NegativeSlope>
struct leaky_relu_t : elementwise_activation<leaky_relu_t<NegativeSlope>, "leaky_relu"> {
    static constexpr double negative_slope =
        static_cast<double>(NegativeSlope::num) / static_cast<double>(NegativeSlope::den);
    static constexpr auto formula = []<class T>(T x) noexcept {
        return detail::select(x > detail::splat<T>(0.0), x, detail::splat<T>(negative_slope) * x);
    };
};

// exp(-|x|) lies in (0, 1], so nothing overflows for any x; for x < 0 the result is
// e / (1 + e) rather than 1 - 1 / (1 + e), which would cancel to 0 long before the true
// value underflows.
struct sigmoid_t : elementwise_activation<sigmoid_t, "sigmoid"> {
    static constexpr auto formula = [](auto x) noexcept {
        return detail::sigmoid_from_exp(x, detail::exp_nonpositive(-xsimd::abs(x)));
    };
};

struct tanh_t : elementwise_activation<tanh_t, "tanh"> {
    static constexpr auto formula = [](auto x) noexcept { return xsimd::tanh(x); };
};

struct elu_t : elementwise_activation<elu_t, "elu"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        return detail::elu(x, detail::splat<T>(1.0));
    };
};

// The constants of Klambauer et al. (2017) to the precision TensorFlow's kernel and Keras 3 use;
// tf.keras documents them rounded to 1.67326324 and 1.05070098, which is the same float.
struct selu_t : elementwise_activation<selu_t, "selu"> {
    static constexpr double alpha = 1.6732632423543772848170429916717;
    static constexpr double scale = 1.0507009873554804934193349852946;
    static constexpr auto formula = []<class T>(T x) noexcept {
        return detail::splat<T>(scale) * detail::elu(x, detail::splat<T>(alpha));
    };
};

// Keras' default exact form, 0.5 x (1 + erf(x / sqrt 2)), written with erfc(-x / sqrt 2): the
// same function, but it keeps its relative accuracy for negative x where 1 + erf cancels.
struct gelu_t : elementwise_activation<gelu_t, "gelu"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        const T minus_inv_sqrt2 = detail::splat<T>(-0.70710678118654752440);
        return detail::splat<T>(0.5) * x * xsimd::erfc(x * minus_inv_sqrt2);
    };
};

// log(1 + exp(x)) rewritten so that exp never overflows and small results keep their digits.
struct softplus_t : elementwise_activation<softplus_t, "softplus"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        return xsimd::max(x, detail::splat<T>(0.0)) + xsimd::log1p(xsimd::exp(-xsimd::abs(x)));
    };
};

struct softsign_t : elementwise_activation<softsign_t, "softsign"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        return x / (detail::splat<T>(1.0) + xsimd::abs(x));
    };
};

struct swish_t : elementwise_activation<swish_t, "swish"> {
    static constexpr auto formula = [](auto x) noexcept { return x * sigmoid_t::apply(x); };
};

// Keras 3's name for swish. A distinct type rather than a derived one, so that nothing written
// for swish_t (an overload, a fusion pattern) silently matches silu_t.
struct silu_t : elementwise_activation<silu_t, "silu"> {
    static constexpr auto formula = swish_t::formula;
};

struct exponential_t : elementwise_activation<exponential_t, "exponential"> {
    static constexpr auto formula = [](auto x) noexcept { return xsimd::exp(x); };
};

// tf.keras 2.x's piecewise-linear form; Keras 3 changed it to clip(x / 6 + 0.5, 0, 1).
struct hard_sigmoid_t : elementwise_activation<hard_sigmoid_t, "hard_sigmoid"> {
    static constexpr auto formula = []<class T>(T x) noexcept {
        return xsimd::clip(detail::splat<T>(0.2) * x + detail::splat<T>(0.5), detail::splat<T>(0.0),
                           detail::splat<T>(1.0));
    };
};

// ---- row-wise activations ------------------------------------------------------------------

struct softmax_t {
    static constexpr std::string_view name = "softmax";

    // `row` is aligned to buffer_alignment and holds padded(n) floats, the first n logical.
    static void apply_row(float* row, std::size_t n) noexcept {
        if (n == 0)
            return;
        const std::size_t width = padded(n);
        const simd_batch minus_infinity(-std::numeric_limits<float>::infinity());

        simd_batch max_lanes = minus_infinity;
        for (std::size_t i = 0; i < width; i += simd_width) {
            const simd_batch x = simd_batch::load_aligned(row + i);
            max_lanes =
                xsimd::max(max_lanes, xsimd::select(detail::first_lanes(n - i), x, minus_infinity));
        }
        // Subtracting the max keeps every exp in (0, 1], and the max itself contributes
        // exp(0) = 1, so the sum is at least 1 and its reciprocal is finite.
        const simd_batch row_max(detail::horizontal_max(max_lanes));

        simd_batch sum_lanes(0.0f);
        for (std::size_t i = 0; i < width; i += simd_width) {
            const simd_batch x = simd_batch::load_aligned(row + i);
            const simd_batch e = xsimd::select(detail::first_lanes(n - i),
                                               detail::softmax_exp(x - row_max), simd_batch(0.0f));
            e.store_aligned(row + i);
            sum_lanes += e;
        }

        const simd_batch inverse_sum(1.0f / xsimd::hadd(sum_lanes));
        for (std::size_t i = 0; i < width; i += simd_width)
            (simd_batch::load_aligned(row + i) * inverse_sum).store_aligned(row + i);
    }
};

// ---- objects for template arguments: Dense<32, relu> ---------------------------------------

inline constexpr linear_t linear{};
inline constexpr relu_t relu{};
inline constexpr leaky_relu_t<> leaky_relu{};
inline constexpr sigmoid_t sigmoid{};
inline constexpr tanh_t tanh{};
inline constexpr softmax_t softmax{};
inline constexpr elu_t elu{};
inline constexpr selu_t selu{};
inline constexpr gelu_t gelu{};
inline constexpr softplus_t softplus{};
inline constexpr softsign_t softsign{};
inline constexpr swish_t swish{};
inline constexpr silu_t silu{};
inline constexpr exponential_t exponential{};
inline constexpr hard_sigmoid_t hard_sigmoid{};

// ---- concepts ------------------------------------------------------------------------------

// Kernels call apply and apply_row in noexcept loops.
template <class A>
concept ElementwiseActivation = requires(float f, double d, simd_batch b) {
    { A::name } -> std::convertible_to<std::string_view>;
    { A::apply(f) } -> std::same_as<float>;
    { A::apply(d) } -> std::same_as<double>;
    { A::apply(b) } -> std::same_as<simd_batch>;
    requires noexcept(A::apply(f));
    requires noexcept(A::apply(d));
    requires noexcept(A::apply(b));
};

template <class A>
concept RowwiseActivation = requires(float* row, std::size_t n) {
    { A::name } -> std::convertible_to<std::string_view>;
    A::apply_row(row, n);
    requires noexcept(A::apply_row(row, n));
};

template <class A>
concept ActivationFunction = ElementwiseActivation<A> || RowwiseActivation<A>;

// ---- kernel --------------------------------------------------------------------------------

// Applies A in place to `rows` rows of n logical floats, consecutive rows `stride` floats apart
// (stride a multiple of simd_width and >= n; data aligned to buffer_alignment). Element-wise
// activations run whole registers over the padded row, so its padding lanes get overwritten
// with A(padding); nothing beyond padded(n) is touched.
template <ActivationFunction A>
void apply_activation(float* data, std::size_t rows, std::size_t n, std::size_t stride) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
        float* row = data + r * stride;
        if constexpr (ElementwiseActivation<A>) {
            for (std::size_t i = 0; i < padded(n); i += simd_width)
                A::apply(simd_batch::load_aligned(row + i)).store_aligned(row + i);
        } else {
            A::apply_row(row, n);
        }
    }
}

}  // namespace xfuse
