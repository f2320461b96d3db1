// Optimizer update rules (Keras 2.11+ "new" optimizers, keras/optimizers/*.py update_step) as
// one pass over a flat parameter span: parameters, gradients and the optimizer's slots are read
// and written once per step, a full SIMD register at a time, then a scalar tail for spans that
// are not a whole number of registers (tests use any length; a model's padded storage has none).
//
// Each rule is written once, as a template over T = simd_batch or float (xsimd overloads its
// functions for scalars), so the SIMD body and the tail cannot drift apart. Per-step scalars
// (Adam's bias-corrected alpha, ...) are computed by the caller, train/optimizers.hpp.
//
// Padding lanes: a parameter whose gradient has always been 0 has zero slots (Adagrad: the
// initial accumulator) and gets a zero update, so padding stays exactly 0. Where a rule divides
// by sqrt(v) + epsilon and the user chose epsilon = 0, that is 0/0 for such a lane; the rules
// give 0 there instead of NaN (a denominator can only be 0 where the numerator is 0 too).
//
// Bound: memory. A step streams 2 + slots floats in and 1 + slots out per parameter; the
// arithmetic (one sqrt and one division per lane) hides under the loads for spans beyond L2.
#pragma once

#include <array>
#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// Runs `rule(w, g, slots)` over n lanes: the SIMD body, then the scalar tail.
template <std::size_t Slots, class Rule>
void apply_update(const Rule& rule, float* params, const float* grads,
                  const std::array<float*, Slots>& slots, std::size_t n) noexcept {
    const std::size_t body = n - n % simd_width;
    for (std::size_t i = 0; i < body; i += simd_width) {
        simd_batch w = simd_batch::load_unaligned(params + i);
        const simd_batch g = simd_batch::load_unaligned(grads + i);
        std::array<simd_batch, Slots> s;
        for (std::size_t k = 0; k < Slots; ++k)
            s[k] = simd_batch::load_unaligned(slots[k] + i);
        rule(w, g, s);
        w.store_unaligned(params + i);
        for (std::size_t k = 0; k < Slots; ++k)
            s[k].store_unaligned(slots[k] + i);
    }
    for (std::size_t i = body; i < n; ++i) {
        float w = params[i];
        std::array<float, Slots> s;
        for (std::size_t k = 0; k < Slots; ++k)
            s[k] = slots[k][i];
        rule(w, grads[i], s);
        params[i] = w;
        for (std::size_t k = 0; k < Slots; ++k)
            slots[k][i] = s[k];
    }
}

namespace detail_update {
// numerator / denominator, or 0 where the denominator is 0 (see the header comment). xsimd 8.1
// has no scalar select, hence the two overloads.
inline float safe_divide(float numerator, float denominator) noexcept {
    return denominator == 0.0f ? 0.0f : numerator / denominator;
}
inline simd_batch safe_divide(simd_batch numerator, simd_batch denominator) noexcept {
    const simd_batch zero(0.0f);
    return xsimd::select(denominator == zero, zero, numerator / denominator);
}
}  // namespace detail_update

// SGD without momentum: w -= lr * g.
struct sgd_rule {
    float learning_rate;
    template <class T>
    void operator()(T& w, T g, std::array<T, 0>&) const noexcept {
        w -= T(learning_rate) * g;
    }
};

// SGD with momentum (slot: m): m = momentum*m - lr*g; w += m, or with Nesterov
// w += momentum*m - lr*g (Keras' formulation, sgd.py update_step).
template <bool Nesterov>
struct sgd_momentum_rule {
    float learning_rate, momentum;
    template <class T>
    void operator()(T& w, T g, std::array<T, 1>& s) const noexcept {
        const T step = T(learning_rate) * g;
        s[0] = s[0] * T(momentum) - step;
        if constexpr (Nesterov)
            w += s[0] * T(momentum) - step;
        else
            w += s[0];
    }
};

// Adam / AdamW (slots: m, v, and v_hat with AMSGrad). alpha = lr*sqrt(1-b2^t)/(1-b1^t);
// decay = lr*weight_decay, applied to w before the Adam update as Keras' AdamW does (0: Adam).
template <bool Amsgrad>
struct adam_rule {
    float alpha, one_minus_beta_1, one_minus_beta_2, epsilon, decay;
    template <class T>
    void operator()(T& w, T g, std::array<T, Amsgrad ? 3 : 2>& s) const noexcept {
        w -= w * T(decay);
        s[0] += (g - s[0]) * T(one_minus_beta_1);
        s[1] += (g * g - s[1]) * T(one_minus_beta_2);
        T v = s[1];
        if constexpr (Amsgrad) {
            s[2] = xsimd::max(s[2], s[1]);
            v = s[2];
        }
        w -= detail_update::safe_divide(s[0] * T(alpha), xsimd::sqrt(v) + T(epsilon));
    }
};

// RMSprop (slots: velocity, then the average gradient if centered, then the momentum if
// momentum > 0): v = rho*v + (1-rho)*g^2; denominator = v (- avg^2 if centered) + epsilon;
// increment = lr * g / sqrt(denominator); w -= increment, or through the momentum slot.
template <bool Centered, bool Momentum>
struct rmsprop_rule {
    static constexpr std::size_t slots = 1 + Centered + Momentum;
    float learning_rate, rho, momentum, epsilon;
    template <class T>
    void operator()(T& w, T g, std::array<T, slots>& s) const noexcept {
        s[0] = T(rho) * s[0] + T(1.0f - rho) * g * g;
        T denominator = s[0] + T(epsilon);
        if constexpr (Centered) {
            s[1] = T(rho) * s[1] + T(1.0f - rho) * g;
            denominator = s[0] - s[1] * s[1] + T(epsilon);
        }
        const T increment =
            detail_update::safe_divide(T(learning_rate) * g, xsimd::sqrt(denominator));
        if constexpr (Momentum) {
            T& m = s[slots - 1];
            m = T(momentum) * m + increment;
            w -= m;
        } else {
            w -= increment;
        }
    }
};

// Adagrad (slot: accumulator, starting at initial_accumulator_value): acc += g^2;
// w -= lr * g / sqrt(acc + epsilon).
struct adagrad_rule {
    float learning_rate, epsilon;
    template <class T>
    void operator()(T& w, T g, std::array<T, 1>& s) const noexcept {
        s[0] += g * g;
        w -= detail_update::safe_divide(T(learning_rate) * g, xsimd::sqrt(s[0] + T(epsilon)));
    }
};

}  // namespace xfuse::kernels
