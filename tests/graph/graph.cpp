// Graph semantics: layer identity, Keras' layer order and default names, shared layers and
// nodes, several outputs, Sequential, inputs that no output uses, and the initialisers' draws.
#define BOOST_TEST_MODULE graph_graph
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>
#include <sstream>
#include <type_traits>
#include <vector>
#include <xfuse/xfuse.hpp>
#include <xtensor/xview.hpp>

#include "support/reference.hpp"

namespace xf = xfuse;

BOOST_AUTO_TEST_CASE(each_written_layer_is_its_own_layer) {
    auto first = xf::Dense<4>{};
    auto second = xf::Dense<4>{};
    auto copy = first;
    static_assert(!std::is_same_v<decltype(first), decltype(second)>);
    static_assert(std::is_same_v<decltype(first), decltype(copy)>);
    static_assert(!std::is_same_v<decltype(xf::Input<3>{}), decltype(xf::Input<3>{})>);
    static_assert(!std::is_same_v<decltype(xf::Concatenate{}), decltype(xf::Concatenate{})>);

    auto input = xf::Input<3>{};
    auto model = xf::Model{xf::inputs(input), xf::Add{}(first(input), second(input))};
    BOOST_TEST(model.count_params() == 32u);  // two kernels (3, 4) and two biases
}

BOOST_AUTO_TEST_CASE(keras_order_is_depth_then_first_visit) {
    // inp -> a, b -> add -> d; output concatenate(d, inp): inp is deepest through a and b.
    auto inp = xf::Input<6>{};
    auto a = xf::Dense<4>{}(inp);
    auto b = xf::Dense<4>{}(inp);
    auto added = xf::Add{}(a, b);
    auto d = xf::Dense<2>{}(added);
    auto out = xf::Concatenate{}(d, inp);
    auto model = xf::Model{xf::inputs(inp), out};
    const std::vector<std::string> expected{"input_1", "dense",   "dense_1",
                                            "add",     "dense_2", "concatenate"};
    BOOST_TEST(model.layer_names() == expected, boost::test_tools::per_element());
    static_assert(decltype(model)::graph_type::node_count == 6);
}

BOOST_AUTO_TEST_CASE(a_tensor_used_twice_is_one_node_computed_once) {
    auto inp = xf::Input<8>{};
    auto x = xf::Dense<8, xf::tanh>{}(inp);
    auto model = xf::Model{xf::inputs(inp), xf::Multiply{}(x, x)};
    using graph = decltype(model)::graph_type;
    static_assert(graph::node_count == 3);  // input, dense, multiply
    const auto batch = reference::random_batch(4, 8, 1);
    const auto w = model.get_weights();
    const auto out = model.predict(batch);
    const auto h = reference::dense(reference::from_xtensor(batch), w[0], w[1]);
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t j = 0; j < 8; ++j)
            BOOST_TEST(std::abs(out(r, j) - std::tanh(h[r][j]) * std::tanh(h[r][j])) < 1e-6);
}

BOOST_AUTO_TEST_CASE(one_layer_applied_twice_shares_its_weights) {
    auto in1 = xf::Input<5>{};
    auto in2 = xf::Input<5>{};
    auto shared = xf::Dense<3>{};
    auto model = xf::Model{xf::inputs(in1, in2), xf::Subtract{}(shared(in1), shared(in2))};
    BOOST_TEST(model.count_params() == 18u);
    BOOST_TEST(model.get_weights().size() == 2u);

    // The bias cancels and the kernel is common: (x1 - x2) W.
    auto w = model.get_weights();
    w[1] = xt::ones<float>({3}) * 5.0f;
    model.set_weights(w);
    const auto x1 = reference::random_batch(3, 5, 2);
    const auto x2 = reference::random_batch(3, 5, 3);
    const xt::xtensor<float, 2> difference = x1 - x2;
    const xt::xarray<float> no_bias = xt::zeros<float>({3});
    const auto expected = reference::dense(reference::from_xtensor(difference), w[0], no_bias);
    BOOST_TEST(reference::max_abs_difference(model.predict(x1, x2), expected) < 1e-5);

    std::ostringstream text;
    model.summary(text);
    BOOST_TEST(text.str().find("['input_1[0][0]',") != std::string::npos);
    BOOST_TEST(text.str().find("['dense[0][0]',") != std::string::npos);
    BOOST_TEST(text.str().find("'dense[1][0]']") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(several_outputs_come_back_as_a_tuple) {
    auto inp = xf::Input<7>{};
    auto hidden = xf::Dense<5, xf::relu>{}(inp);
    auto scores = xf::Dense<3, xf::softmax>{}(hidden);
    auto value = xf::Dense<1>{}(hidden);
    auto model = xf::Model{xf::inputs(inp), scores, value};
    const auto batch = reference::random_batch(6, 7, 4);
    const auto [s, v] = model.predict(batch);
    BOOST_TEST(s.shape(0) == 6u);
    BOOST_TEST(s.shape(1) == 3u);
    BOOST_TEST(v.shape(1) == 1u);
    const auto w = model.get_weights();
    const auto h = reference::relu(reference::dense(reference::from_xtensor(batch), w[0], w[1]));
    BOOST_TEST(reference::max_abs_difference(
                   s, reference::softmax(reference::dense(h, w[2], w[3]))) < 1e-6);
    BOOST_TEST(reference::max_abs_difference(v, reference::dense(h, w[4], w[5])) < 1e-5);

    const xt::xtensor_fixed<float, xt::xshape<7>> sample = xt::view(batch, 2);
    const auto [s1, v1] = model(sample);
    BOOST_TEST(s1(1) == s(2, 1));
    BOOST_TEST(v1(0) == v(2, 0));
}

BOOST_AUTO_TEST_CASE(sequential_positions_are_distinct_layers) {
    xf::clear_session();
    using D = xf::Dense<4, xf::tanh>;
    xf::Sequential<xf::Input<3>, D, D, xf::Dense<1>> model;
    BOOST_TEST(model.name() == "sequential");
    BOOST_TEST(model.count_params() == 16u + 20u + 5u);
    const std::vector<std::string> names{"dense", "dense_1", "dense_2"};
    BOOST_TEST(model.layer_names() == names, boost::test_tools::per_element());

    const auto batch = reference::random_batch(3, 3, 5);
    const auto w = model.get_weights();
    auto h = reference::from_xtensor(batch);
    for (std::size_t k = 0; k < 4; k += 2)
        h = reference::map(reference::dense(h, w[k], w[k + 1]),
                           [](double v) { return std::tanh(v); });
    BOOST_TEST(reference::max_abs_difference(model.predict(batch),
                                             reference::dense(h, w[4], w[5])) < 1e-5);
}

BOOST_AUTO_TEST_CASE(an_unused_input_stays_in_the_model) {
    auto used = xf::Input<2>{};
    auto unused = xf::Input<9>{};
    auto model = xf::Model{xf::inputs(used, unused), xf::Dense<1>{}(used)};
    const std::vector<std::string> names{"input_1", "input_2", "dense"};
    BOOST_TEST(model.layer_names() == names, boost::test_tools::per_element());
    const auto out =
        model.predict(reference::random_batch(2, 2, 6), reference::random_batch(2, 9, 7));
    BOOST_TEST(out.shape(0) == 2u);
}

BOOST_AUTO_TEST_CASE(model_names_count_up_and_clear_session_resets_them) {
    xf::clear_session();
    auto inp = xf::Input<2>{};
    auto out = xf::Dense<1>{}(inp);
    auto first = xf::Model{xf::inputs(inp), out};
    auto second = xf::Model{xf::inputs(inp), out};
    BOOST_TEST(first.name() == "model");
    BOOST_TEST(second.name() == "model_1");
    // Separate models of the same graph have separate weights.
    BOOST_TEST(first.get_weights()[0] != second.get_weights()[0]);
    xf::clear_session();
    auto third = xf::Model{xf::inputs(inp), out};
    BOOST_TEST(third.name() == "model");
}

BOOST_AUTO_TEST_CASE(layer_handles_expose_names_weights_and_outputs) {
    auto inp = xf::Input<3>{};
    auto hidden = xf::Dense<2, xf::relu, "hidden">{}(inp);
    auto model = xf::Model{xf::inputs(inp), xf::Dense<1>{}(hidden)};
    auto layer = model.get_layer<"hidden">();
    BOOST_TEST(layer.name() == "hidden");
    BOOST_TEST(layer.count_params() == 8u);
    static_assert(std::is_same_v<decltype(layer.output()), decltype(hidden)>);
    auto w = layer.get_weights();
    BOOST_REQUIRE_EQUAL(w.size(), 2u);
    w[0].fill(0.25f);
    layer.set_weights(w);
    BOOST_TEST(model.get_weights()[0] == w[0]);
    BOOST_CHECK_THROW(layer.set_weights({w[0]}), std::invalid_argument);
    auto dense = model.get_layer<"dense">();
    BOOST_TEST(dense.count_params() == 3u);
}

// Template code names layer identities with local structs (layers/tagged.hpp).
template <std::size_t Units>
auto two_layer_block(auto x) {
    auto h = xf::tagged::Dense<struct first, Units, xf::relu>{}(x);
    return xf::tagged::Dense<struct second, Units>{}(h);
}

BOOST_AUTO_TEST_CASE(tagged_layers_in_templates) {
    auto inp = xf::Input<4>{};
    auto model = xf::Model{xf::inputs(inp), two_layer_block<6>(inp)};
    BOOST_TEST(model.count_params() == 30u + 42u);
    auto wider = xf::Model{xf::inputs(inp), two_layer_block<7>(inp)};
    BOOST_TEST(wider.count_params() == 35u + 56u);
}

BOOST_AUTO_TEST_CASE(random_normal_has_keras_default_moments) {
    // Keras' RandomNormal(): mean 0, standard deviation 0.05 (tf_keras/initializers/
    // initializers.py).
    const xf::weight_spec w{"w", {128, 128}, 2, xf::initializer::random_normal};
    std::vector<float> storage(w.storage());
    std::mt19937_64 engine(5);
    xf::detail::initialize_weight(w, storage.data(), engine);
    double sum = 0, squares = 0;
    for (float v : storage) {
        sum += v;
        squares += double(v) * v;
    }
    const double n = 128.0 * 128.0, mean = sum / n;
    BOOST_TEST(std::abs(mean) < 0.002);  // 0.05 / 128 is one standard error
    BOOST_TEST(std::sqrt(squares / n - mean * mean) == 0.05, boost::test_tools::tolerance(0.02));
    // Normal, not uniform: about 4.6 % of the draws lie beyond two standard deviations.
    std::size_t beyond = 0;
    for (float v : storage)
        beyond += std::abs(v) > 0.1f;
    BOOST_TEST(beyond > 0.035 * n);
    BOOST_TEST(beyond < 0.057 * n);
}
