// docs/attention_pooling.md: the seed notebook's first AttentionLayer, on sequences.
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

// [layer]
// The notebook's AttentionLayer: a learned vector w (features, 1), initialised random_normal;
// for each sample, a score e_t = x_t . w per row t of x, the weights a = softmax(e) over the rows
// (Keras' axis 1) and the output x_t * a_t.
template <xf::fixed_string Name = "", class Tag = decltype([] {})>
struct AttentionLayer : xf::layer<AttentionLayer<Name, Tag>> {
    static constexpr std::string_view class_name = "AttentionLayer";
    static constexpr std::string_view name = Name.view();

    template <xf::Shape... In>
    using output_shape = xf::only_input_t<In...>;

    template <xf::Shape... In>
    static constexpr std::array<xf::weight_spec, 1> weights{xf::weight_spec{
        "w", {xf::only_input_t<In...>::last, 1}, 2, xf::initializer::random_normal}};

    // One sample's weights a over its rows. w is stored as a column: row d of the (features, 1)
    // weight is padded to a whole register, so w_d is params[d * padded(1)].
    template <xf::Shape In>
    static std::array<float, In::rows> row_weights(const float* w, const float* x) noexcept {
        std::array<float, In::rows> a{};
        float largest = -INFINITY, sum = 0;
        for (std::size_t t = 0; t < In::rows; ++t) {
            for (std::size_t d = 0; d < In::last; ++d)
                a[t] += x[t * In::row_stride + d] * w[d * xf::padded(1)];
            largest = std::max(largest, a[t]);
        }
        for (float& v : a)
            sum += v = std::exp(v - largest);
        for (float& v : a)
            v /= sum;
        return a;
    }

    template <xf::Shape In>
    static void forward(const float* params, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        for (std::size_t s = 0; s < samples; ++s) {
            const float* x = in[0] + s * In::storage;
            float* y = out + s * In::storage;
            const auto a = row_weights<In>(params, x);
            for (std::size_t t = 0; t < In::rows; ++t)
                for (std::size_t d = 0; d < In::last; ++d)
                    y[t * In::row_stride + d] = x[t * In::row_stride + d] * a[t];
        }
    }

    // With g = dL/dy: dL/da_t = g_t . x_t; through the softmax, dL/de_t = a_t (dL/da_t -
    // sum_s a_s dL/da_s); then dL/dx_t = g_t a_t + dL/de_t w and dL/dw = sum_t dL/de_t x_t.
    template <xf::Shape In>
    static void backward(const float* params, float* param_grads, std::size_t samples,
                         std::array<const float*, 1> in, const float*, const float* out_grad,
                         std::array<float*, 1> in_grad) noexcept {
        constexpr std::size_t stride = In::row_stride, w_stride = xf::padded(1);
        for (std::size_t s = 0; s < samples; ++s) {
            const float* x = in[0] + s * In::storage;
            const float* g = out_grad + s * In::storage;
            const auto a = row_weights<In>(params, x);
            std::array<float, In::rows> de{};
            float expected = 0;  // sum_s a_s dL/da_s
            for (std::size_t t = 0; t < In::rows; ++t) {
                for (std::size_t d = 0; d < In::last; ++d)
                    de[t] += g[t * stride + d] * x[t * stride + d];
                expected += a[t] * de[t];
            }
            for (std::size_t t = 0; t < In::rows; ++t) {
                de[t] = a[t] * (de[t] - expected);
                for (std::size_t d = 0; d < In::last; ++d) {
                    param_grads[d * w_stride] += de[t] * x[t * stride + d];
                    if (in_grad[0])
                        in_grad[0][s * In::storage + t * stride + d] +=
                            g[t * stride + d] * a[t] + de[t] * params[d * w_stride];
                }
            }
        }
    }
};
// [layer]

// [reference]
// The formula in double: per sample, x_t * softmax_t(x_t . w).
xf::testing::tensor attention_reference(const std::vector<xf::testing::tensor>& params,
                                        const std::vector<xf::testing::tensor>& inputs) {
    const xf::testing::tensor& x = inputs[0];
    const std::vector<double>& w = params[0].values;
    const std::size_t features = w.size();
    const std::size_t rows = x.shape.size() == 3 ? x.shape[1] : 1;  // rank 1: one row
    xf::testing::tensor y{x.shape, std::vector<double>(x.values.size())};
    for (std::size_t s = 0; s < x.shape[0]; ++s) {
        const double* xs = x.values.data() + s * rows * features;
        std::vector<double> e(rows);
        double sum = 0;
        for (std::size_t t = 0; t < rows; ++t) {
            for (std::size_t d = 0; d < features; ++d)
                e[t] += xs[t * features + d] * w[d];
            sum += e[t] = std::exp(e[t]);
        }
        for (std::size_t t = 0; t < rows; ++t)
            for (std::size_t d = 0; d < features; ++d)
                y.values[(s * rows + t) * features + d] = xs[t * features + d] * e[t] / sum;
    }
    return y;
}
// [reference]

// [data]
// steps x features of noise; one step per sample, at random, carries a marker (feature 0 is 3)
// and the label's sign in feature 1 (+2 for 1, -2 for 0).
constexpr std::size_t steps = 8, features = 4;

struct task {
    xt::xtensor<float, 3> x;
    xt::xtensor<float, 2> y;
    std::vector<std::size_t> marked;  // the informative step of each sample
};

task make_task(std::size_t samples, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> noise;
    std::uniform_int_distribution<std::size_t> step(0, steps - 1);
    task t{
        xt::xtensor<float, 3>({samples, steps, features}), xt::xtensor<float, 2>({samples, 1}), {}};
    for (std::size_t s = 0; s < samples; ++s) {
        for (float& v : xt::view(t.x, s))
            v = noise(engine);
        const std::size_t p = step(engine);
        const bool label = s % 2 == 0;
        t.x(s, p, 0) = 3.0f;
        t.x(s, p, 1) = label ? 2.0f : -2.0f;
        t.y(s, 0) = label ? 1.0f : 0.0f;
        t.marked.push_back(p);
    }
    return t;
}
// [data]

int main() {
    // [rank one]
    // On the notebook's rank-1 input, a sample is one row: e has one element, its softmax is 1,
    // and the layer returns its input unchanged.
    auto features96 = xf::Input<96>{};
    auto unchanged = xf::Model{xf::inputs(features96), AttentionLayer{}(features96)};
    xt::xtensor<float, 2> v = xt::random::randn<float>({5, 96});
    CHECK(unchanged.predict(v) == v);
    // [rank one]

    // [check]
    constexpr std::size_t w = xf::simd_width;
    const xf::testing::check_result results[] = {
        xf::testing::check_layer<AttentionLayer<>, xf::shape<steps, features>>(attention_reference),
        xf::testing::check_layer<AttentionLayer<>, xf::shape<3, w + 1>>(attention_reference),
        xf::testing::check_layer<AttentionLayer<>, xf::shape<w - 1>>(attention_reference)};
    for (const xf::testing::check_result& result : results) {
        std::cout << result << "\n";
        CHECK(result.passed);
    }
    // [check]

    // [model]
    xf::clear_session();
    auto sequence = xf::Input<steps, features>{};
    auto weighted = AttentionLayer<"attention">{}(sequence);  // (8, 4): x_t * a_t
    auto pooled = xf::GlobalAveragePooling1D{}(weighted);     // (4): the mean over steps
    auto output = xf::Dense<1, xf::sigmoid>{}(pooled);
    auto model = xf::Model{xf::inputs(sequence), output};
    model.compile(xf::Adam{.learning_rate = 0.05f}, xf::BinaryCrossentropy{},
                  xf::metrics(xf::BinaryAccuracy{}));
    model.summary();

    const task train = make_task(2048, 1), test = make_task(512, 2);
    model.fit(train.x, train.y, {.epochs = 30, .batch_size = 64, .verbose = 0, .seed = 1});
    // [model]
    std::ostringstream summary;
    model.summary(summary);
    CHECK(summary.str().find(" attention (AttentionLayer)  (None, 8, 4)              4 ") !=
          std::string::npos);
    {
        // A fresh w as Keras draws it: RandomNormal(stddev=0.05).
        auto fresh = xf::Model{xf::inputs(sequence), AttentionLayer{}(sequence)};
        const auto initial = fresh.get_weights().at(0);
        CHECK(initial.shape(0) == features && initial.shape(1) == 1);
        CHECK(xt::amax(xt::abs(initial))() < 0.25f && xt::amax(xt::abs(initial))() > 0.0f);
    }

    // [inspect]
    // The attention over the steps, from the trained w: where is it on the marked step?
    const auto trained_w = model.get_layer<"attention">().get_weights().at(0);
    double on_marked = 0;
    for (std::size_t s = 0; s < 512; ++s) {
        std::array<double, steps> e{};
        double sum = 0;
        for (std::size_t t = 0; t < steps; ++t) {
            for (std::size_t d = 0; d < features; ++d)
                e[t] += test.x(s, t, d) * trained_w(d, 0);
            sum += e[t] = std::exp(e[t]);
        }
        on_marked += e[test.marked[s]] / sum / 512;
    }
    std::cout << "mean attention on the marked step: " << on_marked << " (uniform: 0.125)\n";
    const auto scores = model.evaluate(test.x, test.y);
    std::cout << "test accuracy: " << scores.at(1) << "\n";
    // [inspect]
    CHECK(on_marked > 0.8);
    CHECK(scores.at(1) > 0.95);
    CHECK(trained_w(0, 0) > 0.5f);  // the marker feature is what w looks at
    return docs::exit_code();
}
