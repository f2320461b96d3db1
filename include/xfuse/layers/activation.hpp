// Activation<F, Name>: an activation function as a layer of its own (keras.layers.Activation).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "../kernels/activation_backward.hpp"
#include "../kernels/activations.hpp"
#include "layer.hpp"

namespace xfuse {

// The kind an activation layer declares (layers/layer_kinds.hpp): a sigmoid or softmax output
// carries its input as the logits a cross-entropy takes, whichever layer applies it.
template <class Activation>
struct activation_kind {
    static_assert(ActivationFunction<Activation>,
                  "xfuse::Activation: the argument must be an activation such as xf::tanh");
    using layer_kind = activation_kind;
    using activation_type = Activation;
};

template <auto F, fixed_string Name = "", class Tag = decltype([] {})>
struct Activation : layer<Activation<F, Name, Tag>>,
                    activation_kind<std::remove_cvref_t<decltype(F)>> {
    using typename activation_kind<std::remove_cvref_t<decltype(F)>>::activation_type;

    static constexpr std::string_view class_name = "Activation";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    using output_shape = only_input_t<In...>;

    template <Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        const std::size_t count = samples * In::storage;
        std::copy(in[0], in[0] + count, out);
        apply_activation<activation_type>(out, samples * In::rows, In::last, In::row_stride);
    }

    template <Shape In>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 1> in,
                         const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        static_assert(
            DifferentiableActivation<activation_type>,
            "xfuse::Activation: this activation has no derivative (xfuse::derivative<A>)");
        if (in_grad[0])
            kernels::activation_backward<activation_type, true>(
                in[0], out, out_grad, in_grad[0], samples * In::rows, In::last, In::row_stride);
    }
};

}  // namespace xfuse
