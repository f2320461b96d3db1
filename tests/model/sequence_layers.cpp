// The sequence layers in models: Keras' default names, summary rows and parameter counts, token
// ids outside the table rejected before anything runs (predict, the single-sample call, fit and
// evaluate), and a small token model that learns.
#define BOOST_TEST_MODULE model_sequence_layers
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <xfuse/xfuse.hpp>

namespace xf = xfuse;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

template <class Model>
std::string summary_of(const Model& model) {
    std::ostringstream os;
    model.summary(os);
    return os.str();
}

// `samples` sequences of `steps` ids in [0, vocabulary); label [0, 1] when token 3 occurs.
struct token_task {
    xt::xtensor<float, 2> x;
    xt::xtensor<float, 2> y;
};
token_task make_task(std::size_t samples, std::size_t steps, std::size_t vocabulary,
                     unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> id(0, int(vocabulary) - 1);
    token_task task{xt::xtensor<float, 2>({samples, steps}), xt::xtensor<float, 2>({samples, 2})};
    for (std::size_t s = 0; s < samples; ++s) {
        bool found = false;
        for (std::size_t t = 0; t < steps; ++t) {
            // Token 3 is drawn out of half the samples, so both classes are common.
            int v = id(engine);
            while (s % 2 == 0 && v == 3)
                v = id(engine);
            task.x(s, t) = float(v);
            found = found || v == 3;
        }
        task.y(s, 0) = found ? 0.0f : 1.0f;
        task.y(s, 1) = found ? 1.0f : 0.0f;
    }
    return task;
}

constexpr std::size_t steps = 8, vocabulary = 6;

auto token_model() {
    auto tokens = xf::Input<steps>{};
    auto x = xf::TokenAndPositionEmbedding<vocabulary, steps, 8>{}(tokens);
    auto h = xf::Dense<8, xf::relu>{}(x);
    auto pooled = xf::GlobalAveragePooling1D{}(h);
    return xf::Model{xf::inputs(tokens), xf::Dense<2, xf::softmax>{}(pooled)};
}

template <class F>
void check_out_of_range(F&& f, std::initializer_list<std::string> parts) {
    try {
        f();
        BOOST_ERROR("no std::out_of_range");
    } catch (const std::out_of_range& e) {
        BOOST_TEST_MESSAGE(e.what());
        for (const std::string& part : parts)
            BOOST_TEST(contains(e.what(), part), "lacks '" << part << "': " << e.what());
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(summary_rows_names_and_parameter_counts) {
    xf::clear_session();
    auto ids = xf::Input<200>{};
    auto e = xf::Embedding<20000, 32>{}(ids);
    auto p = xf::TokenAndPositionEmbedding<20000, 200, 32>{}(ids);
    auto avg = xf::GlobalAveragePooling1D{}(e);
    auto max = xf::GlobalMaxPooling1D{}(p);
    auto flat = xf::Flatten{}(xf::Reshape<-1, 8>{}(xf::Add{}(avg, max)));
    auto model = xf::Model{xf::inputs(ids), xf::Dense<1>{}(flat)};
    const std::string text = summary_of(model);
    BOOST_TEST_MESSAGE(text);
    // Keras' default names (snake_case of the class) and its cell wrapping of long ones.
    BOOST_TEST(contains(text,
                        " embedding (Embedding)          (None, 200, 32)      640000      "
                        "['input_1[0][0]']"));
    BOOST_TEST(contains(text,
                        " token_and_position_embedding (  (None, 200, 32)     646400      "
                        "['input_1[0][0]']"));
    BOOST_TEST(contains(text, " TokenAndPositionEmbedding) "));
    BOOST_TEST(contains(text, " global_average_pooling1d (Glob  (None, 32)          0    "));
    BOOST_TEST(contains(text, " global_max_pooling1d (GlobalMa  (None, 32)          0    "));
    BOOST_TEST(contains(text, " reshape (Reshape)              (None, 4, 8)         0    "));
    BOOST_TEST(contains(text, " flatten (Flatten)              (None, 32)           0    "));
    BOOST_TEST(model.count_params() == 640000u + 646400u + 33u);
    BOOST_TEST(contains(text, "Total params: 1,286,433"));
}

BOOST_AUTO_TEST_CASE(embedding_tables_start_uniform_in_keras_bounds) {
    // tf-keras' Embedding defaults to "uniform", RandomUniform(minval=-0.05, maxval=0.05)
    // (tf_keras/layers/core/embedding.py, tf_keras/initializers/initializers.py); keras-hub's
    // TokenAndPositionEmbedding gives its "uniform" default to both tables.
    xf::clear_session();
    auto ids = xf::Input<4>{};
    auto model = xf::Model{xf::inputs(ids), xf::TokenAndPositionEmbedding<400, 100, 30>{}(ids)};
    model.initialize_weights(11);
    for (const auto& table : model.get_weights()) {
        BOOST_TEST(xt::amax(table)() <= 0.05f);
        BOOST_TEST(xt::amin(table)() >= -0.05f);
        // Spread over the whole range, as a uniform draw: the extremes near the bounds, the
        // mean near 0.
        BOOST_TEST(xt::amax(table)() > 0.049f);
        BOOST_TEST(xt::amin(table)() < -0.049f);
        BOOST_TEST(std::abs(xt::mean(table)()) < 0.005f);
    }
}

BOOST_AUTO_TEST_CASE(ids_outside_the_table_raise_before_anything_changes) {
    xf::clear_session();
    auto model = token_model();
    model.compile(xf::Adam{}, xf::CategoricalCrossentropy{});
    auto task = make_task(12, steps, vocabulary, 1);
    task.x(5, 2) = 6.0f;  // one past the table
    const auto before = model.get_weights();
    const std::initializer_list<std::string> where{"TokenAndPositionEmbedding",
                                                   "'token_and_position_embedding'", "sample 5",
                                                   "position 2", "token id 6 is outside [0, 6)"};
    check_out_of_range([&] { model.predict(task.x); }, where);
    check_out_of_range(
        [&] { model.fit(task.x, task.y, xf::FitOptions{.epochs = 1, .verbose = 0}); }, where);
    check_out_of_range([&] { model.evaluate(task.x, task.y); }, where);
    const auto unchanged = model.get_weights();
    for (std::size_t i = 0; i < before.size(); ++i)
        BOOST_TEST(xt::all(xt::equal(unchanged[i], before[i])));
    BOOST_TEST(model.optimizer_states().empty());

    xt::xtensor_fixed<float, xt::xshape<steps>> one{};
    one(7) = -1.0f;  // negative ids are outside too; -0.5 would be id 0, as tf.cast gives
    static_assert(!noexcept(model(one)), "a model that checks its inputs can throw");
    check_out_of_range([&] { model(one); }, {"sample 0", "position 7", "token id -1 is"});
    one(7) = -0.5f;
    BOOST_CHECK_NO_THROW(model(one));
}

BOOST_AUTO_TEST_CASE(an_embedding_names_positions_of_every_axis) {
    xf::clear_session();
    auto ids = xf::Input<2, 3>{};
    auto model = xf::Model{xf::inputs(ids), xf::Embedding<4, 5, "lookup">{}(ids)};
    xt::xtensor<float, 3> x = xt::zeros<float>({2, 2, 3});
    x(1, 1, 0) = 4.0f;
    check_out_of_range([&] { model.predict(x); },
                       {"Embedding 'lookup'", "sample 1", "position (1, 0)", "token id 4 is"});
    x(1, 1, 0) = 3.9f;  // cast toward zero: id 3
    const auto out = model.predict(x);
    const auto table = model.get_weights()[0];
    for (std::size_t f = 0; f < 5; ++f)
        BOOST_TEST(out(1, 1, 0, f) == table(3, f));
}

BOOST_AUTO_TEST_CASE(a_token_model_learns_whether_a_token_occurs) {
    xf::clear_session();
    auto model = token_model();
    model.initialize_weights(3);
    model.compile(xf::Adam{.learning_rate = 1e-2f}, xf::CategoricalCrossentropy{},
                  xf::metrics(xf::CategoricalAccuracy{}));
    const auto train = make_task(512, steps, vocabulary, 2);
    const auto test = make_task(256, steps, vocabulary, 3);
    const double before = model.evaluate(test.x, test.y)[1];
    model.fit(train.x, train.y,
              xf::FitOptions{.epochs = 30, .batch_size = 32, .verbose = 0, .seed = 5});
    const auto scores = model.evaluate(test.x, test.y);
    BOOST_TEST_MESSAGE("accuracy before " << before << ", after " << scores[1]);
    BOOST_TEST(scores[1] >= 0.95);
}
