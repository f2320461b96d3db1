// Dense<Units, Activation, Name, UseBias>: Keras' Dense on the last axis, y = act(x W + b) with
// the kernel stored (in, out), Glorot-uniform kernel and zero bias.
//
// Everything but the names lives in dense_kind, the trait a Dense-like layer declares by deriving
// from it: the execution plans (exec/) recognise a layer whose `layer_kind` is a dense_kind and
// fuse it, and the trainer takes its logits path, whatever wraps, tags or names it.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "../kernels/activation_backward.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/dense.hpp"
#include "../kernels/dense_backward.hpp"
#include "../kernels/dense_tile.hpp"
#include "layer.hpp"

namespace xfuse {

// A view of a Dense-like layer's parameters (const float or float, for gradients).
template <class T>
struct dense_params {
    T* kernel;  // In rows of padded(units) floats
    T* bias;    // padded(units) floats, or nullptr without a bias
};

template <std::size_t Units, class Activation, bool UseBias>
struct dense_kind {
    static_assert(Units > 0, "xfuse::Dense: Units must be positive");
    static_assert(ActivationFunction<Activation>,
                  "xfuse::Dense: the second argument must be an activation such as xf::relu");

    using layer_kind = dense_kind;
    using activation_type = Activation;
    static constexpr std::size_t units = Units;
    static constexpr bool use_bias = UseBias;

    // The parameter layout, owned here alone: the kernel's In rows of padded(Units) floats, then
    // the bias (the order of `weights`).
    template <std::size_t In, class T>
    static constexpr dense_params<T> params(T* p) noexcept {
        return {p, UseBias ? p + In * padded(Units) : nullptr};
    }

    template <Shape... In>
    struct rule {
        static_assert(sizeof...(In) == 1, "xfuse::Dense takes exactly one input tensor");
        using type = with_last_t<std::tuple_element_t<0, std::tuple<In..., shape<1>>>, Units>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;

    template <Shape In>
    static constexpr std::array<weight_spec, UseBias ? 2 : 1> weights_of() {
        constexpr weight_spec kernel{"kernel", {In::last, Units}, 2, initializer::glorot_uniform};
        if constexpr (UseBias)
            return {kernel, weight_spec{"bias", {Units}, 1, initializer::zeros}};
        else
            return {kernel};
    }
    template <Shape... In>
    static constexpr auto weights = weights_of<In...>();

    template <Shape In>
    static void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        const auto p = dense_kind::params<In::last>(params);
        // Register-blocked over rows, the activation applied before the one store.
        kernels::dense_activation_rows<In::last, Units, Activation>(
            p.kernel, p.bias, in[0], In::row_stride, out, padded(Units), samples * In::rows);
    }

    // dz = out_grad * act'(...) one tile at a time, then the Dense products on that tile.
    // Activations whose derivative needs the pre-activation (gelu, swish) recompute it for the
    // tile: a second forward product, cheaper than keeping z for every Dense in the plan.
    template <Shape In>
    static void backward(const float* params, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        static_assert(DifferentiableActivation<Activation>,
                      "xfuse::Dense: this activation has no derivative (xfuse::derivative<A>)");
        constexpr std::size_t stride = padded(Units);
        const auto p = dense_kind::params<In::last>(params);
        run_backward<In>(params, param_grads, samples, in, in_grad,
                         [&](std::size_t first, std::size_t count, float* dz) noexcept {
                             const float* y = out + first * stride;
                             if constexpr (derivative<Activation>::needs_input)
                                 kernels::dense_rows<In::last, Units>(
                                     p.kernel, p.bias, in[0] + first * In::row_stride, dz, count);
                             kernels::activation_backward<Activation, false>(
                                 dz, y, out_grad + first * stride, dz, count, Units, stride);
                         });
    }

    // The same with dz = dL/d(x W + b) given: the logits path a trainer takes for a sigmoid or
    // softmax output (Keras' _keras_logits), where dz = (activation - label) / batch.
    template <Shape In>
    static void backward_preactivation(const float* params, float* param_grads, std::size_t samples,
                                       std::array<const float*, 1> in,
                                       const float* preactivation_grad,
                                       std::array<float*, 1> in_grad) noexcept {
        constexpr std::size_t stride = padded(Units);
        run_backward<In>(params, param_grads, samples, in, in_grad,
                         [&](std::size_t first, std::size_t count, float* dz) noexcept {
                             const float* g = preactivation_grad + first * stride;
                             // The linear Jacobian: a copy that zeroes the padding lanes.
                             kernels::activation_backward<linear_t, false>(nullptr, g, g, dz, count,
                                                                           Units, stride);
                         });
    }

    // Runs the Dense products with a given producer of dz tiles (also the fused attention's).
    template <Shape In, class MakeDz>
    static void run_backward(const float* params, float* param_grads, std::size_t samples,
                             std::array<const float*, 1> in, std::array<float*, 1> in_grad,
                             MakeDz&& make_dz) noexcept {
        const auto g = dense_kind::params<In::last>(param_grads);
        kernels::dense_backward<In::last, Units>(params, g.kernel, g.bias, in[0], in_grad[0],
                                                 samples * In::rows, make_dz);
    }
};

template <std::size_t Units, auto Act = linear, fixed_string Name = "", bool UseBias = true,
          class Tag = decltype([] {})>
struct Dense : layer<Dense<Units, Act, Name, UseBias, Tag>>,
               dense_kind<Units, std::remove_cvref_t<decltype(Act)>, UseBias> {
    static constexpr std::string_view class_name = "Dense";
    static constexpr std::string_view name = Name.view();
    using dense_kind<Units, std::remove_cvref_t<decltype(Act)>, UseBias>::weights;
};

}  // namespace xfuse
