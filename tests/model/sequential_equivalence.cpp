// Sequential against the functional Model with the same layers and weights: the same fusion
// decisions, bit-identical predictions for every built-in layer a Sequential can hold (on
// samples and on sequences), identical
// fit histories and weights for the three output/loss pairs whose gradients differ, and the
// same (logits) cross-entropy where clipping probabilities would give another number.
//
// Concatenate, Dot and the merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum)
// take two or more inputs, which a Sequential cannot express; tests/exec/fusion.cpp checks that
// a Sequential position keeps the kind of Concatenate and Dot.
#define BOOST_TEST_MODULE model_sequential_equivalence
#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <ostream>
#include <sstream>
#include <type_traits>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"

namespace xf = xfuse;

namespace {

template <class X>
auto chain(X x) {
    return x;
}
template <class X, class L, class... Rest>
auto chain(X x, L layer, Rest... rest) {
    return chain(layer(x), rest...);
}

// The functional Model of Sequential<In, Layers...>.
template <class In, class... Layers>
auto functional() {
    const In input{};
    return xf::Model{xf::inputs(input), chain(input, Layers{}...)};
}

// The pair, with the Sequential's weights copied from the Model's.
template <class In, class... Layers>
struct pair {
    using sequential_type = xf::Sequential<In, Layers...>;
    using functional_type = decltype(functional<In, Layers...>());
    functional_type model = functional<In, Layers...>();
    sequential_type sequential;

    pair() { sequential.set_weights(model.get_weights()); }

    // The one fusion decision sees the same steps in both.
    static_assert(xf::detail::fusion_of<typename sequential_type::graph_type>.kind ==
                  xf::detail::fusion_of<typename functional_type::graph_type>.kind);
    static_assert(xf::detail::fusion_of<typename sequential_type::graph_type>.logits_output ==
                  xf::detail::fusion_of<typename functional_type::graph_type>.logits_output);
};

bool bit_identical(const auto& a, const auto& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

bool same_weights(const std::vector<xt::xarray<float>>& a,
                  const std::vector<xt::xarray<float>>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!bit_identical(a[i], b[i]))
            return false;
    return true;
}

// 29 random samples of In's shape; with Vocab, token ids in [0, Vocab) instead.
template <class In, std::size_t Vocab = 0>
auto random_samples() {
    using shape = typename In::shape_type;
    auto flat = reference::random_batch(29, shape::size, 11, 2.0f);
    if constexpr (Vocab != 0)
        for (float& v : flat)
            v = std::fmod(std::floor(std::abs(v) * 37.0f), float(Vocab));
    if constexpr (shape::rank == 1) {
        return flat;
    } else {
        xt::xtensor<float, shape::rank + 1> x;
        std::array<std::size_t, shape::rank + 1> dims{29};
        std::copy(shape::dims.begin(), shape::dims.end(), dims.begin() + 1);
        x.resize(dims);
        std::copy(flat.begin(), flat.end(), x.begin());
        return x;
    }
}

template <class In, class... Layers, std::size_t Vocab = 0>
void check_predict(const char* what, std::integral_constant<std::size_t, Vocab> = {}) {
    pair<In, Layers...> p;
    const auto x = random_samples<In, Vocab>();
    BOOST_TEST_CONTEXT(what) {
        BOOST_TEST(bit_identical(p.sequential.predict(x), p.model.predict(x)));
        BOOST_TEST(
            bit_identical(p.sequential.predict(xf::unfused, x), p.model.predict(xf::unfused, x)));
    }
}

// Inside templates, layers name their identity (layers/tagged.hpp).
template <auto Activation>
void check_dense() {
    check_predict<xf::tagged::Input<struct in, 9>, xf::tagged::Dense<struct dense, 7, Activation>>(
        decltype(Activation)::name.data());
}
template <auto Activation>
void check_activation_layer() {
    check_predict<xf::tagged::Input<struct in, 9>, xf::tagged::Dense<struct dense, 7>,
                  xf::tagged::Activation<struct activation, Activation>>(
        decltype(Activation)::name.data());
}

// Two epochs from the same weights with a validation split: the histories and the final
// weights agree to the bit.
template <class In, class... Layers, class Loss>
void check_fit(const Loss& loss, const xt::xtensor<float, 2>& y) {
    pair<In, Layers...> p;
    const auto x = reference::random_batch(y.shape(0), In::shape_type::size, 12);
    const xf::FitOptions options{
        .epochs = 2, .batch_size = 16, .validation_split = 0.25f, .verbose = 0, .seed = 3};
    p.sequential.compile(xf::Adam{.learning_rate = 0.01f}, loss);
    p.model.compile(xf::Adam{.learning_rate = 0.01f}, loss);
    std::ostringstream quiet;
    const xf::History s = p.sequential.fit(x, y, options, quiet);
    const xf::History m = p.model.fit(x, y, options, quiet);
    BOOST_TEST(s.history.at("loss") == m.history.at("loss"), boost::test_tools::per_element());
    BOOST_TEST(s.history.at("val_loss") == m.history.at("val_loss"),
               boost::test_tools::per_element());
    BOOST_TEST(same_weights(p.sequential.get_weights(), p.model.get_weights()));
    BOOST_TEST(!same_weights(p.model.get_weights(), functional<In, Layers...>().get_weights()));
}

xt::xtensor<float, 2> one_hot_labels(std::size_t rows, std::size_t classes, unsigned seed) {
    const auto r = reference::random_batch(rows, 1, seed);
    xt::xtensor<float, 2> y = xt::zeros<float>({rows, classes});
    for (std::size_t i = 0; i < rows; ++i)
        y(i, static_cast<std::size_t>(std::abs(r(i, 0)) * 7.0f) % classes) = 1.0f;
    return y;
}

xt::xtensor<float, 2> binary_labels(std::size_t rows, unsigned seed) {
    xt::xtensor<float, 2> y = reference::random_batch(rows, 1, seed);
    for (float& v : y)
        v = v > 0.0f ? 1.0f : 0.0f;
    return y;
}

}  // namespace

BOOST_AUTO_TEST_CASE(dense_with_every_activation_predicts_the_same) {
    check_dense<xf::linear>();
    check_dense<xf::relu>();
    check_dense<xf::sigmoid>();
    check_dense<xf::tanh>();
    check_dense<xf::softmax>();
    check_dense<xf::elu>();
    check_dense<xf::selu>();
    check_dense<xf::gelu>();
    check_dense<xf::softplus>();
    check_dense<xf::softsign>();
    check_dense<xf::swish>();
    check_dense<xf::hard_sigmoid>();
    check_dense<xf::leaky_relu>();
    check_dense<xf::exponential>();
    check_predict<xf::Input<9>, xf::Dense<5, xf::relu, "", false>>("no bias");
    check_predict<xf::Input<40>, xf::Dense<33, xf::relu>, xf::Dense<17, xf::tanh>,
                  xf::Dense<3, xf::softmax>>("three layers");
}

BOOST_AUTO_TEST_CASE(activation_layers_predict_the_same) {
    check_activation_layer<xf::relu>();
    check_activation_layer<xf::softmax>();
    check_activation_layer<xf::sigmoid>();
    check_activation_layer<xf::tanh>();
}

BOOST_AUTO_TEST_CASE(sequence_layers_predict_the_same) {
    check_predict<xf::Input<4, 6>, xf::LayerNormalization<>, xf::Flatten<>>("LayerNormalization");
    check_predict<xf::Input<4, 6>, xf::Dense<5, xf::relu>, xf::GlobalAveragePooling1D<>>(
        "Dense on sequences, GlobalAveragePooling1D");
    check_predict<xf::Input<4, 6>, xf::GlobalMaxPooling1D<>>("GlobalMaxPooling1D");
    check_predict<xf::Input<4, 6>, xf::Dropout<>, xf::Reshape<6, 4>>("Dropout, Reshape");
    constexpr std::integral_constant<std::size_t, 11> vocab;
    check_predict<xf::Input<5>, xf::Embedding<11, 6>, xf::GlobalAveragePooling1D<>>("Embedding",
                                                                                    vocab);
    check_predict<xf::Input<5>, xf::TokenAndPositionEmbedding<11, 5, 6>, xf::Flatten<>>(
        "TokenAndPositionEmbedding", vocab);
}

BOOST_AUTO_TEST_CASE(sigmoid_and_binary_crossentropy_train_the_same) {
    check_fit<xf::Input<6>, xf::Dense<8, xf::relu>, xf::Dense<1, xf::sigmoid>>(
        xf::BinaryCrossentropy{}, binary_labels(96, 21));
}

BOOST_AUTO_TEST_CASE(softmax_and_categorical_crossentropy_train_the_same) {
    check_fit<xf::Input<6>, xf::Dense<8, xf::tanh>, xf::Dense<3, xf::softmax>>(
        xf::CategoricalCrossentropy{}, one_hot_labels(96, 3, 22));
}

BOOST_AUTO_TEST_CASE(linear_and_mean_squared_error_train_the_same) {
    check_fit<xf::Input<6>, xf::Dense<8, xf::relu>, xf::Dense<2>>(
        xf::MeanSquaredError{}, reference::random_batch(96, 2, 23));
}

// Large logits (kernels scaled x40): probabilities clipped to [1e-7, 1 - 1e-7] would bound each
// sample's loss by -log(1e-7) ~ 16.1; the logits path computes the unclipped loss, and both
// models take it.
BOOST_AUTO_TEST_CASE(binary_crossentropy_of_large_logits_is_the_same) {
    pair<xf::Input<8>, xf::Dense<16, xf::relu>, xf::Dense<1, xf::sigmoid>> p;
    auto weights = p.model.get_weights();
    weights[0] *= 40.0f;
    weights[2] *= 40.0f;
    p.model.set_weights(weights);
    p.sequential.set_weights(weights);
    const auto x = reference::random_batch(64, 8, 31);
    const xt::xtensor<float, 2> y = binary_labels(64, 32);

    // The loss in double precision from the logits.
    double expected = 0;
    for (std::size_t s = 0; s < 64; ++s) {
        double z = weights[3](0);
        for (std::size_t h = 0; h < 16; ++h) {
            double a = weights[1](h);
            for (std::size_t i = 0; i < 8; ++i)
                a += double(x(s, i)) * weights[0](i, h);
            z += std::max(a, 0.0) * weights[2](h, 0);
        }
        expected += std::max(z, 0.0) - z * y(s, 0) + std::log1p(std::exp(-std::abs(z)));
    }
    expected /= 64;
    BOOST_TEST_REQUIRE(expected > 20.0);  // beyond any clipped value

    p.model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    p.sequential.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    const double functional_loss = p.model.evaluate(x, y).at(0);
    const double sequential_loss = p.sequential.evaluate(x, y).at(0);
    BOOST_TEST(sequential_loss == functional_loss);
    BOOST_TEST(functional_loss == expected, boost::test_tools::tolerance(1e-4));
}
