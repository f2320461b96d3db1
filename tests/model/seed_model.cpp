// The seed notebook end to end: forward pass against a double-precision reference of the
// Keras formulas, the summary text, the sub-model that shares weights, and predict's errors.
#define BOOST_TEST_MODULE model_seed_model
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <xtensor/xview.hpp>

#include "support/reference.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;

namespace {

// The notebook's forward pass (keras-semantics.md, appendix A) in double precision.
reference::matrix seed_forward(const std::vector<xt::xarray<float>>& w,
                               const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b,
                               reference::matrix* attention = nullptr) {
    using namespace reference;
    const matrix c = concatenate(relu(dense(from_xtensor(a), w[0], w[1])),
                                 relu(dense(from_xtensor(b), w[2], w[3])));
    const matrix alpha = softmax(dense(c, w[4], w[5]));
    if (attention)
        *attention = alpha;
    return sigmoid(dense(row_dot(c, alpha), w[6], w[7]));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(summary_matches_tf_2_7_byte_for_byte) {
    xf::clear_session();
    auto model = seed::build();
    BOOST_TEST(model.name() == "model");
    std::ostringstream text;
    model.summary(text);
    BOOST_TEST(text.str() == read_file(XFUSE_TEST_DATA "/seed_summary_tf2.7.txt"));
    BOOST_TEST(model.count_params() == 11010u);
}

BOOST_AUTO_TEST_CASE(layer_names_follow_keras_order) {
    auto model = seed::build();
    const std::vector<std::string> expected{"input_1",     "input_2",   "dense", "dense_1",
                                            "concatenate", "attention", "dot",   "dense_2"};
    BOOST_TEST(model.layer_names() == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(weights_have_keras_shapes_and_initialisers) {
    auto model = seed::build();
    const auto w = model.get_weights();
    BOOST_REQUIRE_EQUAL(w.size(), 8u);
    const std::vector<std::vector<std::size_t>> shapes{{10, 32}, {32}, {20, 64}, {64},
                                                       {96, 96}, {96}, {1, 1},   {1}};
    for (std::size_t i = 0; i < w.size(); ++i) {
        BOOST_TEST(std::vector<std::size_t>(w[i].shape().begin(), w[i].shape().end()) == shapes[i],
                   boost::test_tools::per_element());
    }
    // Glorot-uniform kernels: inside +-sqrt(6 / (in + out)) and spread over it; zero biases.
    for (std::size_t k = 0; k < w.size(); k += 2) {
        const double limit = std::sqrt(6.0 / double(shapes[k][0] + shapes[k][1]));
        BOOST_TEST(xt::amax(xt::abs(w[k]))() <= limit);
        if (w[k].size() > 100)
            BOOST_TEST(xt::amax(xt::abs(w[k]))() > 0.9 * limit);
        BOOST_TEST(xt::amax(xt::abs(w[k + 1]))() == 0.0f);
    }
}

BOOST_AUTO_TEST_CASE(initialisation_is_deterministic_from_a_seed) {
    auto first = seed::build();
    auto second = seed::build();
    BOOST_TEST(first.get_weights()[4] != second.get_weights()[4]);  // fresh models differ
    first.initialize_weights(7);
    second.initialize_weights(7);
    for (std::size_t i = 0; i < 8; ++i)
        BOOST_TEST(first.get_weights()[i] == second.get_weights()[i]);
    xf::set_random_seed(123);
    auto third = seed::build();
    xf::set_random_seed(123);
    auto fourth = seed::build();
    BOOST_TEST(third.get_weights()[0] == fourth.get_weights()[0]);
}

BOOST_AUTO_TEST_CASE(predict_matches_double_reference) {
    auto model = seed::build();
    // Non-zero biases so that the bias path is exercised too.
    auto w = model.get_weights();
    for (std::size_t k = 1; k < w.size(); k += 2)
        w[k].fill(0.05f);
    w[6].fill(2.5f);  // the output kernel, (1, 1)
    model.set_weights(w);
    for (std::size_t rows : {1u, 7u, 33u, 1000u, 2500u}) {  // 2500 spans several tiles
        const auto a = reference::random_batch(rows, 10, 1);
        const auto b = reference::random_batch(rows, 20, 2);
        const xt::xtensor<float, 2> out = model.predict(a, b);
        BOOST_REQUIRE_EQUAL(out.shape(0), rows);
        BOOST_REQUIRE_EQUAL(out.shape(1), 1u);
        BOOST_TEST(reference::max_abs_difference(out, seed_forward(w, a, b)) < 1e-5);
    }
}

BOOST_AUTO_TEST_CASE(sub_model_returns_attention_weights_and_shares_weights) {
    auto model = seed::build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    BOOST_TEST(attention.count_params() == 11008u);
    const std::vector<std::string> names{"input_1", "input_2",     "dense",
                                         "dense_1", "concatenate", "attention"};
    BOOST_TEST(attention.layer_names() == names, boost::test_tools::per_element());

    const auto a = reference::random_batch(10000, 10, 3);
    const auto b = reference::random_batch(10000, 20, 4);
    const xt::xtensor<float, 2> o = attention.predict(a, b);
    BOOST_REQUIRE_EQUAL(o.shape(0), 10000u);
    BOOST_REQUIRE_EQUAL(o.shape(1), 96u);
    const xt::xtensor<float, 1> sums = xt::sum(o, {1});
    BOOST_TEST(xt::amax(xt::abs(sums - 1.0f))() < 1e-6);
    BOOST_TEST(xt::amin(o)() >= 0.0f);

    reference::matrix expected;
    seed_forward(model.get_weights(), a, b, &expected);
    BOOST_TEST(reference::max_abs_difference(o, expected) < 1e-6);

    // Changing the parent's weights changes what the sub-model computes, and the other way.
    auto w = model.get_weights();
    w[4] *= 3.0f;
    model.set_weights(w);
    const xt::xtensor<float, 2> changed = attention.predict(a, b);
    seed_forward(w, a, b, &expected);
    BOOST_TEST(reference::max_abs_difference(changed, expected) < 1e-6);
    BOOST_TEST(xt::amax(xt::abs(changed - o))() > 1e-3);

    auto sub_weights = attention.get_weights();
    sub_weights[0] *= 0.0f;
    attention.set_weights(sub_weights);
    BOOST_TEST(xt::amax(xt::abs(model.get_weights()[0]))() == 0.0f);
}

// Bit for bit: a sample alone runs the kernels' one-row blocks, the same sample in a batch their
// blocks of 4 (attention) and 8 rows (the feature layers, the packed sigmoid), in several tiles;
// the kernels add in the same order either way.
BOOST_AUTO_TEST_CASE(single_sample_call_matches_predict) {
    auto model = seed::build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    const auto a = reference::random_batch(100, 10, 5);
    const auto b = reference::random_batch(100, 20, 6);
    const xt::xtensor<float, 2> batch = model.predict(a, b);
    const xt::xtensor<float, 2> weights = attention.predict(a, b);
    for (std::size_t r = 0; r < 100; ++r) {
        xt::xtensor_fixed<float, xt::xshape<10>> sa = xt::row(a, r);
        xt::xtensor_fixed<float, xt::xshape<20>> sb = xt::row(b, r);
        const xt::xtensor_fixed<float, xt::xshape<1>> y = model(sa, sb);
        BOOST_TEST(y(0) == batch(r, 0), "sample " << r);
        const xt::xtensor<float, 1> alone = attention(sa, sb);
        const xt::xtensor<float, 1> in_batch = xt::row(weights, r);
        BOOST_TEST(alone == in_batch, "sample " << r);
    }
}

BOOST_AUTO_TEST_CASE(predict_accepts_other_containers) {
    auto model = seed::build();
    const auto a = reference::random_batch(9, 10, 7);
    const auto b = reference::random_batch(9, 20, 8);
    const xt::xtensor<float, 2> expected = model.predict(a, b);
    const xt::xarray<double> a64 = a;                                      // cast on entry
    const xt::xtensor<float, 2, xt::layout_type::column_major> b_col = b;  // re-laid out
    const xt::xtensor<float, 2> got = model.predict(a64, b_col);
    BOOST_TEST(xt::amax(xt::abs(got - expected))() < 1e-7);
    const xt::xtensor<float, 2> viewed =
        model.predict(xt::view(a, xt::range(2, 5), xt::all()), xt::view(b, xt::range(2, 5)));
    BOOST_TEST(xt::amax(xt::abs(viewed - xt::view(expected, xt::range(2, 5))))() < 1e-7);
}

namespace {
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}
}  // namespace

BOOST_AUTO_TEST_CASE(bad_batches_raise_invalid_argument_naming_input_and_shapes) {
    auto model = seed::build();
    const auto a = reference::random_batch(4, 10, 1);
    const auto b = reference::random_batch(4, 20, 2);
    const auto wrong_width = reference::random_batch(4, 11, 3);
    const auto fewer_rows = reference::random_batch(3, 20, 4);
    const xt::xtensor<float, 2> empty_a({0, 10}), empty_b({0, 20});
    const xt::xarray<float> rank3 = xt::zeros<float>({4, 10, 1});

    BOOST_TEST(error_of([&] { model.predict(wrong_width, b); }) ==
               "xfuse: Model::predict input 'input_1': expected shape (None, 10), got (4, 11)");
    BOOST_TEST(error_of([&] { model.predict(a, fewer_rows); }) ==
               "xfuse: Model::predict: inputs 'input_1' and 'input_2' have different numbers of "
               "samples (4 vs 3)");
    BOOST_TEST(error_of([&] { model.predict(empty_a, empty_b); }) ==
               "xfuse: Model::predict input 'input_1' has no samples: shape (0, 10)");
    BOOST_TEST(error_of([&] { model.predict(rank3, b); }) ==
               "xfuse: Model::predict input 'input_1': expected shape (None, 10), got (4, 10, 1)");
}

BOOST_AUTO_TEST_CASE(set_weights_checks_everything_before_changing_anything) {
    auto model = seed::build();
    const auto before = model.get_weights();
    auto bad = before;
    bad[7] = xt::zeros<float>({2});  // last weight wrong: nothing may change
    bad[0] *= 2.0f;
    BOOST_TEST(error_of([&] { model.set_weights(bad); }) ==
               "xfuse: set_weights: weight 7 ('dense_2/bias'): expected shape (1,), got (2,)");
    auto fewer = before;
    fewer.pop_back();
    BOOST_TEST(error_of([&] { model.set_weights(fewer); }) ==
               "xfuse: set_weights: expected 8 weight arrays, got 7");
    const auto after = model.get_weights();
    for (std::size_t i = 0; i < before.size(); ++i)
        BOOST_TEST(after[i] == before[i]);
}

BOOST_AUTO_TEST_CASE(compile_validates_its_settings) {
    auto model = seed::build();
    BOOST_TEST(!model.is_compiled());
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    BOOST_TEST(model.is_compiled());
    BOOST_TEST(std::get<xf::Adam>(model.optimizer()).learning_rate == 1e-3f);
    BOOST_TEST(std::get<xf::Adam>(model.optimizer()).epsilon == 1e-7f);
    BOOST_CHECK_THROW(model.compile(xf::Adam{.learning_rate = -1.0f}, xf::BinaryCrossentropy{}),
                      std::invalid_argument);
}
