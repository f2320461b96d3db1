// Dense<Units, Activation, Name, UseBias>: Keras' Dense on the last axis, y = act(x W + b) with
// the kernel stored (in, out), Glorot-uniform kernel and zero bias.
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

template <std::size_t Units, auto Act = linear, fixed_string Name = "", bool UseBias = true,
          class Tag = decltype([] {})>
struct Dense : layer<Dense<Units, Act, Name, UseBias, Tag>> {
    static_assert(Units > 0, "xfuse::Dense: Units must be positive");
    using activation_type = std::remove_cvref_t<decltype(Act)>;
    static_assert(ActivationFunction<activation_type>,
                  "xfuse::Dense: the second argument must be an activation such as xf::relu");

    static constexpr std::string_view class_name = "Dense";
    static constexpr std::string_view name = Name.view();
    static constexpr std::size_t units = Units;
    static constexpr bool use_bias = UseBias;

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
        const float* kernel = params;
        const float* bias = UseBias ? params + In::last * padded(Units) : nullptr;
        // Register-blocked over rows, the activation applied before the one store.
        kernels::dense_activation_rows<In::last, Units, activation_type>(
            kernel, bias, in[0], In::row_stride, out, padded(Units), samples * In::rows);
    }

    // dz = out_grad * act'(...) one tile at a time, then the Dense products on that tile.
    // Activations whose derivative needs the pre-activation (gelu, swish) recompute it for the
    // tile: a second forward product, cheaper than keeping z for every Dense in the plan.
    template <Shape In>
    static void backward(const float* params, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        static_assert(DifferentiableActivation<activation_type>,
                      "xfuse::Dense: this activation has no derivative (xfuse::derivative<A>)");
        constexpr std::size_t stride = padded(Units);
        const float* kernel = params;
        const float* bias = UseBias ? params + In::last * stride : nullptr;
        run_backward<In>(params, param_grads, samples, in, in_grad,
                         [&](std::size_t first, std::size_t count, float* dz) noexcept {
                             const float* y = out + first * stride;
                             if constexpr (derivative<activation_type>::needs_input)
                                 kernels::dense_rows<In::last, Units>(
                                     kernel, bias, in[0] + first * In::row_stride, dz, count);
                             kernels::activation_backward<activation_type, false>(
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
        const std::size_t bias_offset = In::last * padded(Units);
        kernels::dense_backward<In::last, Units>(params, param_grads,
                                                 UseBias ? param_grads + bias_offset : nullptr,
                                                 in[0], in_grad[0], samples * In::rows, make_dz);
    }
};

}  // namespace xfuse
