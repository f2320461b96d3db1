// LayerNormalization: the conformance check (forward against the double reference, one sample
// against the batch, fused against plain, gradients by central differences) at feature sizes
// around the SIMD width, with and without gamma and beta; its runtime epsilon reaching the model,
// its sub-models and its gradients; the numpy float64 reference of
// tests/data/make_sequence_fixtures.py (tf-keras tf_keras/layers/normalization/
// layer_normalization.py: epsilon 1e-3 by default, gamma then beta, the biased variance); and
// the identity of two layers written alike.
#define BOOST_TEST_MODULE layers_layer_normalization
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <stdexcept>
#include <xfuse/xfuse.hpp>

#include "support/conformance.hpp"
#include "support/fixture_reader.hpp"

namespace xf = xfuse;

namespace {

using xf::testing::simd_tail_sizes;

template <bool Center, bool Scale>
using normalization = xf::LayerNormalization<"", Center, Scale, void>;

xt::xarray<float> to_array(const fixture::array& a, std::vector<std::size_t> shape) {
    auto t = xt::xarray<float>::from_shape(shape);
    std::copy(a.values.begin(), a.values.end(), t.begin());
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(conformance_at_sizes_around_the_simd_width) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [] {
                constexpr std::size_t n = simd_tail_sizes[I];
                BOOST_TEST_CONTEXT("LayerNormalization over " << n << " features") {
                    reference::check_conformance<normalization<true, true>, xf::shape<3, n>>(
                        normalization<true, true>{{.epsilon = 1e-6f}});
                    reference::check_conformance<normalization<true, true>, xf::shape<n>>();
                }
            }(),
            ...);
    }
    (std::make_index_sequence<simd_tail_sizes.size()>{});
    reference::check_conformance<normalization<false, true>, xf::shape<2, 19>>();
    reference::check_conformance<normalization<true, false>, xf::shape<2, 19>>();
    reference::check_conformance<normalization<false, false>, xf::shape<2, 19>>();
}

BOOST_AUTO_TEST_CASE(weights_are_gamma_then_beta) {
    constexpr auto both = normalization<true, true>::weights<xf::shape<5, 7>>;
    static_assert(both.size() == 2);
    BOOST_TEST(both[0].name == "gamma");
    BOOST_TEST(both[1].name == "beta");
    BOOST_TEST(both[0].size() == 7u);
    BOOST_TEST((both[0].init == xf::initializer::ones));
    BOOST_TEST((both[1].init == xf::initializer::zeros));
    static_assert(normalization<false, true>::weights<xf::shape<7>>[0].name == "gamma");
    static_assert(normalization<true, false>::weights<xf::shape<7>>[0].name == "beta");
    static_assert(normalization<false, false>::weights<xf::shape<7>>.empty());
    BOOST_TEST(xf::LayerNormalization<>{}.epsilon == 1e-3f);  // Keras' default
}

// The fixture's near-constant row (variance about 1e-6) tells epsilon 1e-6 from 1e-3.
BOOST_AUTO_TEST_CASE(matches_the_numpy_reference_for_both_epsilons) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_fixture.txt");
    const auto x = to_array(data.at("ln_input"), {3, 4, 7});
    const auto gamma = to_array(data.at("ln_gamma"), {7});
    const auto beta = to_array(data.at("ln_beta"), {7});
    const auto upstream = to_array(data.at("ln_upstream"), {3, 4, 7});
    for (const float epsilon : {1e-6f, 1e-3f}) {
        const std::string name = epsilon == 1e-6f ? "ln_eps1e-6_" : "ln_eps1e-3_";
        BOOST_TEST_CONTEXT("epsilon " << epsilon) {
            auto in = xf::Input<4, 7>{};
            const auto layer = xf::LayerNormalization{{.epsilon = epsilon}};
            auto model = xf::Model{xf::inputs(in), layer(in)};
            model.set_weights({gamma, beta});
            const auto expected = to_array(data.at(name + "output"), {3, 4, 7});
            // x in float32 is 0.3 to 3e-8 in the near-constant row, whose deviations of 1e-3
            // it divides: outputs near 1 agree to a few 1e-5.
            for (const auto& y : {model.predict(xf::fused, x), model.predict(xf::unfused, x)})
                BOOST_TEST(xt::amax(xt::abs(y - expected))() < 1e-4);

            // The layer's backward on xfuse's padded rows against the reference's gradients.
            using S = xf::shape<4, 7>;
            const std::size_t stride = S::row_stride, rows = 12;
            xf::aligned_buffer params(2 * stride), grads(2 * stride), xs(rows * stride),
                dy(rows * stride), dx(rows * stride), out(rows * stride);
            std::fill_n(params.data(), 2 * stride, 0.0f);
            std::fill_n(grads.data(), 2 * stride, 0.0f);
            std::fill_n(dx.data(), rows * stride, 0.0f);
            std::fill_n(xs.data(), rows * stride, std::nanf(""));  // padding never read
            std::fill_n(dy.data(), rows * stride, std::nanf(""));
            std::copy(gamma.begin(), gamma.end(), params.data());
            std::copy(beta.begin(), beta.end(), params.data() + stride);
            for (std::size_t r = 0; r < rows; ++r) {
                std::copy_n(x.data() + r * 7, 7, xs.data() + r * stride);
                std::copy_n(upstream.data() + r * 7, 7, dy.data() + r * stride);
            }
            layer.forward<S>(params.data(), 3, {xs.data()}, out.data());
            layer.backward<S>(params.data(), grads.data(), 3, {xs.data()}, out.data(), dy.data(),
                              {dx.data()});
            const fixture::array& dinput = data.at(name + "dinput");
            const fixture::array& dgamma = data.at(name + "dgamma");
            const fixture::array& dbeta = data.at(name + "dbeta");
            double worst = 0;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t i = 0; i < 7; ++i)
                    worst = std::max(worst, std::abs(dx.data()[r * stride + i] - dinput(r, i)) /
                                                (1 + std::abs(dinput(r, i))));
            for (std::size_t i = 0; i < 7; ++i) {
                worst = std::max(worst, std::abs(grads.data()[i] - dgamma(0, i)));
                worst = std::max(worst, std::abs(grads.data()[stride + i] - dbeta(0, i)));
            }
            // The near-constant row divides float32 rounding of x by a deviation of 1e-3.
            BOOST_TEST(worst < 1e-3);
            for (std::size_t i = 7; i < stride; ++i)
                BOOST_TEST(grads.data()[i] == 0.0f);  // padding lanes of the gradients
        }
    }
}

BOOST_AUTO_TEST_CASE(the_model_and_its_sub_models_keep_the_layer_s_epsilon) {
    auto in = xf::Input<8>{};
    auto normalized = xf::LayerNormalization<"norm">{{.epsilon = 0.5f}}(in);
    auto model = xf::Model{xf::inputs(in), xf::Dense<3>{}(normalized)};
    const xt::xtensor<float, 2> x = {{1, 2, 3, 4, 5, 6, 7, 8}};
    // The sub-model's tensor is made from the type alone (a default epsilon of 1e-3); the
    // layer it shares brings the model's 0.5.
    auto sub = xf::Model{model.inputs(), model.get_layer<"norm">().output()};
    const auto y = sub.predict(x);
    const double variance = 5.25;  // of 1..8
    BOOST_TEST(y(0, 7) == 3.5 / std::sqrt(variance + 0.5), boost::test_tools::tolerance(1e-6));
    BOOST_TEST(model.bindings().layer<decltype(normalized.layer)>().epsilon == 0.5f);
}

BOOST_AUTO_TEST_CASE(two_layers_written_alike_are_two_layers) {
    auto in = xf::Input<4, 8>{};
    auto a = xf::LayerNormalization{{.epsilon = 1e-6f}}(in);
    auto b = xf::LayerNormalization{{.epsilon = 1e-6f}}(a);
    auto model = xf::Model{xf::inputs(in), b};
    BOOST_TEST(model.count_params() == 32u);
    BOOST_TEST(model.layer_names() == (std::vector<std::string>{"input_1", "layer_normalization",
                                                                "layer_normalization_1"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_bad_epsilon_is_refused) {
    for (const float epsilon : {-1e-3f, std::nanf(""), INFINITY})
        BOOST_CHECK_EXCEPTION(xf::LayerNormalization{{.epsilon = epsilon}}, std::invalid_argument,
                              [](const std::invalid_argument& e) {
                                  return std::string(e.what()).find("LayerNormalization") !=
                                         std::string::npos;
                              });
}
