// Dropout: Keras' Dropout(rate), the identity in predict and evaluate, inverted dropout in fit.
//
//   auto y = xf::Dropout{0.1f}(x);
//
// In fit, each element of a sample is dropped with probability `rate` and the others are scaled
// by 1 / (1 - rate); the mask comes from FitOptions::seed, the epoch, the layer and the sample's
// row in the data (kernels/dropout.hpp), so a run repeats bit for bit and the backward pass
// recomputes the mask. Keras' noise_shape and seed arguments are not offered: the mask is per
// element, and the seed is fit's.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "../kernels/dropout.hpp"
#include "layer.hpp"

namespace xfuse {

template <fixed_string Name = "", class Tag = decltype([] {})>
struct Dropout : layer<Dropout<Name, Tag>> {
    static constexpr std::string_view class_name = "Dropout";
    static constexpr std::string_view name = Name.view();

    float rate = 0.0f;

    Dropout() = default;
    explicit Dropout(float dropped) : rate(dropped) {
        // tf.nn.dropout refuses a rate of 1 (the scale 1 / (1 - rate) would be infinite).
        if (!(rate >= 0.0f && rate < 1.0f))
            throw std::invalid_argument("xfuse::Dropout: the rate must lie in [0, 1), got " +
                                        std::to_string(rate));
    }

    template <Shape... In>
    using output_shape = only_input_t<In...>;

    template <Shape In>
    void forward(const float*, std::size_t samples, std::array<const float*, 1> in, float* out,
                 const call_context& context) const noexcept {
        if (!context.training || rate == 0.0f) {
            std::copy_n(in[0], samples * In::storage, out);
            return;
        }
        for (std::size_t s = 0; s < samples; ++s)
            kernels::dropout_sample(in[0] + s * In::storage, out + s * In::storage, In::rows,
                                    In::last, In::row_stride, rate, key(context, s), false);
    }

    template <Shape In>
    void backward(const float*, float*, std::size_t samples, std::array<const float*, 1>,
                  const float*, const float* out_grad, std::array<float*, 1> in_grad,
                  const call_context& context) const noexcept {
        if (!in_grad[0])
            return;
        if (!context.training || rate == 0.0f) {
            for (std::size_t i = 0; i < samples * In::storage; ++i)
                in_grad[0][i] += out_grad[i];
            return;
        }
        for (std::size_t s = 0; s < samples; ++s)
            kernels::dropout_sample(out_grad + s * In::storage, in_grad[0] + s * In::storage,
                                    In::rows, In::last, In::row_stride, rate, key(context, s),
                                    true);
    }

  private:
    static kernels::dropout_key key(const call_context& context, std::size_t s) noexcept {
        return {context.seed, context.epoch, context.layer,
                context.sample_ids ? context.sample_ids[s] : s};
    }
};

}  // namespace xfuse
