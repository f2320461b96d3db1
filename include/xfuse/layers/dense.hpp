// Dense<Units, Activation, Name, UseBias>: Keras' Dense on the last axis, y = act(x W + b) with
// the kernel stored (in, out), Glorot-uniform kernel and zero bias.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/dense.hpp"
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
        const std::size_t rows = samples * In::rows;
        kernels::dense_rows<In::last, Units>(kernel, bias, in[0], out, rows);
        apply_activation<activation_type>(out, rows, Units, padded(Units));
    }
};

}  // namespace xfuse
