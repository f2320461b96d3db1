// docs/custom_layers.md: the seed notebook's AttentionLayer2 as a layer type of its own.
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

// [layer]
// Keras' AttentionLayer2(units): Dense(units, activation='softmax'); its output is the vector
// of attention weights, positive and summing to 1 over the last axis.
template <std::size_t Units, xf::fixed_string Name = "", class Tag = decltype([] {})>
struct AttentionLayer2 : xf::layer<AttentionLayer2<Units, Name, Tag>> {
    static_assert(Units > 0, "AttentionLayer2: Units must be positive");

    static constexpr std::string_view class_name = "AttentionLayer2";
    static constexpr std::string_view name = Name.view();

    // The shape rule: one input, whose last axis becomes Units.
    template <xf::Shape... In>
    struct rule {
        static_assert(sizeof...(In) == 1, "AttentionLayer2 takes exactly one input tensor");
    };
    template <xf::Shape In>
    struct rule<In> {
        using type = xf::with_last_t<In, Units>;
    };
    template <xf::Shape... In>
    using output_shape = typename rule<In...>::type;

    // The weights in Keras' order: kernel (in, units), then bias (units).
    template <xf::Shape In>
    static constexpr std::array<xf::weight_spec, 2> weights_of() {
        return {xf::weight_spec{"kernel", {In::last, Units}, 2, xf::initializer::glorot_uniform},
                xf::weight_spec{"bias", {Units}, 1, xf::initializer::zeros}};
    }
    template <xf::Shape... In>
    static constexpr auto weights = weights_of<In...>();

    // `params` holds the kernel, In::last rows of padded(Units) floats, then the bias.
    template <xf::Shape In>
    static void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        const float* kernel = params;
        const float* bias = params + In::last * xf::padded(Units);
        const std::size_t rows = samples * In::rows;
        xf::kernels::dense_rows<In::last, Units>(kernel, bias, in[0], out, rows);
        xf::apply_activation<xf::softmax_t>(out, rows, Units, xf::padded(Units));
    }

    // Training: the parameters are laid out as the equivalent built-in Dense's, so its backward
    // computes this layer's gradients.
    template <xf::Shape In>
    static void backward(const float* params, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float* out, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        xf::Dense<Units, xf::softmax, "", true, void>::template backward<In>(
            params, param_grads, samples, in, out, out_grad, in_grad);
    }
};
// [layer]

// [kind]
// The same layer saying what it is: it derives from Dense's kind and takes its shape rule,
// weights, forward and backward.
namespace as_kind {
template <std::size_t Units, xf::fixed_string Name = "", class Tag = decltype([] {})>
struct AttentionLayer2 : xf::layer<AttentionLayer2<Units, Name, Tag>>,
                         xf::dense_kind<Units, xf::softmax_t, true> {
    static constexpr std::string_view class_name = "AttentionLayer2";
    static constexpr std::string_view name = Name.view();
    using xf::dense_kind<Units, xf::softmax_t, true>::weights;  // not layer<>'s "no weights"
};
}  // namespace as_kind
// [kind]

// [reference]
// The layer's formula in double, on plain row-major values: softmax(x W + b) on the last axis.
// params: the kernel (in, units) and the bias (units); inputs[0]: (samples, ..., in).
xf::testing::tensor attention_reference(const std::vector<xf::testing::tensor>& params,
                                        const std::vector<xf::testing::tensor>& inputs) {
    const xf::testing::tensor& x = inputs[0];
    const std::vector<double>& kernel = params[0].values;
    const std::vector<double>& bias = params[1].values;
    const std::size_t in = params[0].shape[0], units = params[0].shape[1];
    xf::testing::tensor y{x.shape, {}};
    y.shape.back() = units;
    for (std::size_t row = 0; row < x.values.size() / in; ++row) {
        std::vector<double> z(units);
        double sum = 0;
        for (std::size_t j = 0; j < units; ++j) {
            z[j] = bias[j];
            for (std::size_t i = 0; i < in; ++i)
                z[j] += x.values[row * in + i] * kernel[i * units + j];
            sum += z[j] = std::exp(z[j]);
        }
        for (double v : z)
            y.values.push_back(v / sum);
    }
    return y;
}
// [reference]

int main() {
    // [model]
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    // units=x1.shape[-1] + x2.shape[-1], as the notebook computes it
    constexpr std::size_t units = decltype(x1)::shape_type::last + decltype(x2)::shape_type::last;
    auto alpha = AttentionLayer2<units, "attention">{}(x);
    auto s = xf::Dot<1>{}(x, alpha);
    auto output = xf::Dense<1, xf::sigmoid>{}(s);
    auto model = xf::Model{xf::inputs(input1, input2), output};
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.summary();
    // [model]
    std::ostringstream summary;
    model.summary(summary);
    CHECK(summary.str().find(" attention (AttentionLayer2)    (None, 96)           9312 ") !=
          std::string::npos);
    CHECK(model.count_params() == 11010);
    CHECK((model.layer_names() == std::vector<std::string>{"input_1", "input_2", "dense", "dense_1",
                                                           "concatenate", "attention", "dot",
                                                           "dense_2"}));

    {
        // Fresh weights as Keras makes them: Glorot-uniform kernel, limit sqrt(6 / (96 + 96)),
        // and a zero bias.
        const auto initial = model.get_layer<"attention">().get_weights();
        const float limit = std::sqrt(6.0f / (96 + 96));
        CHECK(initial.size() == 2);
        CHECK(initial[0].shape(0) == 96 && initial[0].shape(1) == 96);
        CHECK(xt::amax(xt::abs(initial[0]))() <= limit &&
              xt::amax(xt::abs(initial[0]))() > 0.5f * limit);
        CHECK(initial[1].dimension() == 1 && initial[1].shape(0) == 96);
        CHECK(xt::all(xt::equal(initial[1], 0.0f)));
    }

    // [reference]
    // The same graph with the built-in Dense in the attention step.
    auto r_input1 = xf::Input<10>{};
    auto r_input2 = xf::Input<20>{};
    auto r_x1 = xf::Dense<32, xf::relu>{}(r_input1);
    auto r_x2 = xf::Dense<64, xf::relu>{}(r_input2);
    auto r_x = xf::Concatenate{}(r_x1, r_x2);
    auto r_alpha = xf::Dense<96, xf::softmax, "attention">{}(r_x);
    auto r_output = xf::Dense<1, xf::sigmoid>{}(xf::Dot<1>{}(r_x, r_alpha));
    auto reference = xf::Model{xf::inputs(r_input1, r_input2), r_output};

    // Both list their weights in the same order, so one model's list fits the other.
    reference.set_weights(model.get_weights());

    xt::xtensor<float, 2> a = xt::random::randn<float>({1000, 10});
    xt::xtensor<float, 2> b = xt::random::randn<float>({1000, 20});
    xt::xtensor<float, 2> ours = model.predict(a, b);
    xt::xtensor<float, 2> theirs = reference.predict(a, b);
    // [reference]
    // A tolerance, not equality: the built-in Dense may be fused with its softmax and round
    // differently from the two calls AttentionLayer2 makes.
    CHECK(xt::amax(xt::abs(ours - theirs))() < 1e-6f);
    {
        auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
        auto r_attention =
            xf::Model{reference.inputs(), reference.get_layer<"attention">().output()};
        xt::xtensor<float, 2> weights = attention.predict(a, b);
        CHECK(xt::amax(xt::abs(weights - r_attention.predict(a, b)))() < 1e-6f);
        CHECK(xt::amax(xt::abs(xt::sum(weights, {1}) - 1.0f))() < 1e-5f);
    }

    // [defaults]
    // Unnamed, the layer takes Keras' default name from its class name.
    auto sequence = xf::Input<3, 5>{};  // 3 rows of 5 features per sample
    auto unnamed = xf::Model{xf::inputs(sequence), AttentionLayer2<4>{}(sequence)};
    // layer names: input_1, attention_layer2; output per sample: (3, 4)
    // [defaults]
    CHECK((unnamed.layer_names() == std::vector<std::string>{"input_1", "attention_layer2"}));
    CHECK(unnamed.count_params() == 5 * 4 + 4);
    {
        xt::xtensor<float, 3> samples = xt::random::randn<float>({7, 3, 5});
        xt::xtensor<float, 3> weights = unnamed.predict(samples);
        CHECK(weights.shape(0) == 7 && weights.shape(1) == 3 && weights.shape(2) == 4);
        CHECK(xt::amax(xt::abs(xt::sum(weights, {2}) - 1.0f))() < 1e-5f);
    }

    // [check]
    // Sizes around the SIMD width, where kernels change path; the seed's size; a sequence.
    constexpr std::size_t w = xf::simd_width;
    const xf::testing::check_result results[] = {
        xf::testing::check_layer<AttentionLayer2<w + 1>, xf::shape<w - 1>>(attention_reference),
        xf::testing::check_layer<AttentionLayer2<w>, xf::shape<2 * w + 3>>(attention_reference),
        xf::testing::check_layer<AttentionLayer2<96>, xf::shape<96>>(attention_reference),
        xf::testing::check_layer<AttentionLayer2<4>, xf::shape<3, 5>>(attention_reference)};
    for (const xf::testing::check_result& result : results) {
        std::cout << result << "\n";  // "passed", or one line per failure
        CHECK(result.passed);
    }
    // [check]
    {
        // The layer that derives from Dense's kind passes the same check.
        const auto result =
            xf::testing::check_layer<as_kind::AttentionLayer2<w + 1>, xf::shape<2 * w + 3>>(
                attention_reference);
        std::cout << result << "\n";
        CHECK(result.passed);
    }
    {
        // The check fails where the layer and its reference disagree: here, a reference that
        // forgets the bias.
        const auto without_bias = [](std::vector<xf::testing::tensor> params,
                                     const std::vector<xf::testing::tensor>& inputs) {
            std::fill(params[1].values.begin(), params[1].values.end(), 0.0);
            return attention_reference(params, inputs);
        };
        const auto wrong = xf::testing::check_layer<AttentionLayer2<w>, xf::shape<w>>(without_bias);
        CHECK(!wrong.passed);
        CHECK(wrong.message.find("AttentionLayer2 on (None, " + std::to_string(w) +
                                 "): forward: output[") == 0);
    }

    return docs::exit_code();
}
