// LayerNormalization<Name, Center, Scale>: Keras' LayerNormalization on the last axis,
// y = (x - mean) / sqrt(var + epsilon) * gamma + beta with the biased variance, weights `gamma`
// (ones) then `beta` (zeros); Center = false drops beta, Scale = false drops gamma.
//
//   auto y = xf::LayerNormalization{{.epsilon = 1e-6f}}(x);   // Keras' default epsilon is 1e-3
//
// epsilon is a runtime option, so the layer is a value (layers/layer.hpp): the model keeps a
// copy, and forward and backward read it.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "../kernels/layer_normalization.hpp"
#include "layer.hpp"

namespace xfuse {

struct layer_normalization_options {
    float epsilon = 1e-3f;
};

template <fixed_string Name = "", bool Center = true, bool Scale = true,
          class Tag = decltype([] {})>
struct LayerNormalization : layer<LayerNormalization<Name, Center, Scale, Tag>> {
    static constexpr std::string_view class_name = "LayerNormalization";
    static constexpr std::string_view name = Name.view();

    float epsilon = layer_normalization_options{}.epsilon;

    LayerNormalization() = default;
    explicit LayerNormalization(layer_normalization_options options) : epsilon(options.epsilon) {
        // A negative epsilon lets var + epsilon reach 0 or below: infinities or NaN, silently.
        if (!(epsilon >= 0.0f) || std::isinf(epsilon))
            throw std::invalid_argument(
                "xfuse::LayerNormalization: epsilon must be a finite number >= 0, got " +
                std::to_string(epsilon));
    }

    template <Shape... In>
    using output_shape = only_input_t<In...>;

    template <Shape In>
    static constexpr auto weights_of() {
        constexpr weight_spec gamma{"gamma", {In::last}, 1, initializer::ones};
        constexpr weight_spec beta{"beta", {In::last}, 1, initializer::zeros};
        if constexpr (Scale && Center)
            return std::array{gamma, beta};
        else if constexpr (Scale)
            return std::array{gamma};
        else if constexpr (Center)
            return std::array{beta};
        else
            return std::array<weight_spec, 0>{};
    }
    template <Shape... In>
    static constexpr auto weights = weights_of<In...>();

    template <Shape In>
    void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                 float* out) const noexcept {
        kernels::layer_normalization_rows<Scale, Center>(in[0], gamma<In>(params), beta<In>(params),
                                                         out, samples * In::rows, In::last,
                                                         In::row_stride, epsilon);
    }

    // The moments are recomputed from the input, not kept from forward.
    template <Shape In>
    void backward(const float* params, float* param_grads, std::size_t samples,
                  std::array<const float*, 1> in, const float*, const float* out_grad,
                  std::array<float*, 1> in_grad) const noexcept {
        kernels::layer_normalization_backward<Scale, Center>(
            in[0], gamma<In>(params), out_grad, in_grad[0], gamma<In>(param_grads),
            beta<In>(param_grads), samples * In::rows, In::last, In::row_stride, epsilon);
    }

  private:
    // The parameter layout: gamma's padded row, then beta's (the order of `weights`).
    template <Shape In, class T>
    static T* gamma(T* params) noexcept {
        return Scale ? params : nullptr;
    }
    template <Shape In, class T>
    static T* beta(T* params) noexcept {
        return Center ? params + (Scale ? padded(In::last) : 0) : nullptr;
    }
};

}  // namespace xfuse
