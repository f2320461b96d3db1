// The Transformer classifier (examples/transformer_classifier.cpp) at a small size, maxlen 20
// and vocabulary 30: its summary at the example's size, and that it learns two tasks, one of
// which only attention with positions can learn, with its attention on the tokens that decide.
#define BOOST_TEST_MODULE model_transformer
#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <xfuse/xfuse.hpp>

namespace xf = xfuse;

namespace {

// The acceptance model of examples/transformer_classifier.cpp at another size.
template <std::size_t Vocab, std::size_t MaxLen, std::size_t Embed = 32, std::size_t Heads = 2,
          std::size_t FF = 32>
auto transformer_classifier() {
    namespace t = xf::tagged;
    auto tokens = t::Input<struct tokens, MaxLen>{};
    auto x = t::TokenAndPositionEmbedding<struct embedding, Vocab, MaxLen, Embed>{}(tokens);
    auto attn = t::MultiHeadAttention<struct attention, Heads, Embed, "mha">{}(x, x);
    auto x1 = t::LayerNormalization<struct norm1>{{.epsilon = 1e-6f}}(
        t::Add<struct add1>{}(x, t::Dropout<struct drop1>{0.1f}(attn)));
    auto f = t::Dense<struct ff2, Embed>{}(t::Dense<struct ff1, FF, xf::relu>{}(x1));
    auto x2 = t::LayerNormalization<struct norm2>{{.epsilon = 1e-6f}}(
        t::Add<struct add2>{}(x1, t::Dropout<struct drop2>{0.1f}(f)));
    auto pooled = t::GlobalAveragePooling1D<struct pool>{}(x2);
    auto h = t::Dense<struct hidden, 20, xf::relu>{}(t::Dropout<struct drop3>{0.1f}(pooled));
    auto out = t::Dense<struct head, 2, xf::softmax>{}(t::Dropout<struct drop4>{0.1f}(h));
    auto model = xf::Model{xf::inputs(tokens), out};
    model.compile(xf::Adam{}, xf::SparseCategoricalCrossentropy{},
                  xf::metrics(xf::SparseCategoricalAccuracy{}));
    return model;
}

constexpr std::size_t vocab = 30, maxlen = 20;

struct task {
    xt::xtensor<float, 2> x;
    xt::xtensor<float, 1> y;
};

// Token ids in [1, vocab) other than the task's own tokens, then `plant` puts them in.
template <class Plant>
task make_task(std::size_t samples, unsigned seed, Plant plant) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> token(1, int(vocab) - 1);
    task t{xt::xtensor<float, 2>({samples, maxlen}), xt::zeros<float>({samples})};
    for (std::size_t s = 0; s < samples; ++s) {
        for (std::size_t step = 0; step < maxlen; ++step) {
            int id = token(engine);
            while (id == 3 || id == 4 || id == 7)
                id = token(engine);
            t.x(s, step) = float(id);
        }
        t.y(s) = plant(t.x, s, engine);
    }
    return t;
}

// Does token 7 occur? Every other sample holds it once, at a random step.
float plant_seven(xt::xtensor<float, 2>& x, std::size_t s, std::mt19937& engine) {
    if (s % 2 == 0)
        return 0.0f;
    x(s, std::uniform_int_distribution<std::size_t>(0, maxlen - 1)(engine)) = 7.0f;
    return 1.0f;
}

// Does token 3 occur before token 4? Every sample holds each once, at two random steps.
float plant_three_four(xt::xtensor<float, 2>& x, std::size_t s, std::mt19937& engine) {
    std::uniform_int_distribution<std::size_t> step(0, maxlen - 1);
    const std::size_t a = step(engine);
    std::size_t b = step(engine);
    while (b == a)
        b = step(engine);
    x(s, a) = 3.0f;
    x(s, b) = 4.0f;
    return a < b ? 1.0f : 0.0f;
}

// Trains the model from initial weights of `seed` on `samples` samples of a task, a fifth of
// them for validation; returns the last epoch's validation accuracy.
template <class Model, class Plant>
double train(Model& model, Plant plant, std::size_t samples, int epochs, unsigned seed) {
    model.initialize_weights(seed);
    const task data = make_task(samples, seed, plant);
    std::ostringstream quiet;
    const xf::History history = model.fit(
        data.x, data.y,
        {.epochs = epochs, .batch_size = 32, .validation_split = 0.2f, .seed = seed}, quiet);
    return history.history.at("val_sparse_categorical_accuracy").back();
}

}  // namespace

BOOST_AUTO_TEST_CASE(summary_of_the_example_model) {
    xf::clear_session();
    auto model = transformer_classifier<20000, 200>();
    std::ostringstream text;
    model.summary(text);
    std::ifstream file(XFUSE_TEST_DATA "/transformer_summary_tf2.7.txt");
    const std::string expected{std::istreambuf_iterator<char>(file), {}};
    BOOST_TEST_REQUIRE(!expected.empty());
    BOOST_TEST(text.str() == expected);
    BOOST_TEST(model.count_params() == 657758u);
}

BOOST_AUTO_TEST_CASE(learns_whether_a_token_occurs) {
    xf::clear_session();
    auto model = transformer_classifier<vocab, maxlen>();
    const double accuracy = train(model, plant_seven, 2000, 8, 1);
    BOOST_TEST_MESSAGE("token 7: validation accuracy " << accuracy);
    BOOST_TEST(accuracy >= 0.98);
}

BOOST_AUTO_TEST_CASE(learns_token_order_with_attention_on_the_deciding_tokens) {
    xf::clear_session();
    auto model = transformer_classifier<vocab, maxlen>();
    const double accuracy = train(model, plant_three_four, 4000, 20, 2);
    BOOST_TEST_MESSAGE("3 before 4: validation accuracy " << accuracy);
    BOOST_TEST(accuracy >= 0.90);

    // The attention each key step receives, averaged over heads and query steps: the steps
    // holding 3 and 4 get far more than the 2 / maxlen that uniform attention would give them.
    auto scores = xf::Model{model.inputs(), model.get_layer<"mha">().attention_scores()};
    const task test = make_task(200, 3, plant_three_four);
    const xt::xtensor<float, 4> p = scores.predict(test.x);  // (N, H, T, S)
    double on_deciding = 0;
    for (std::size_t s = 0; s < 200; ++s)
        for (std::size_t h = 0; h < 2; ++h)
            for (std::size_t t = 0; t < maxlen; ++t)
                for (std::size_t k = 0; k < maxlen; ++k)
                    if (test.x(s, k) == 3.0f || test.x(s, k) == 4.0f)
                        on_deciding += p(s, h, t, k) / (200.0 * 2 * maxlen);
    BOOST_TEST_MESSAGE("attention on tokens 3 and 4: " << on_deciding << " (uniform 0.1)");
    BOOST_TEST(on_deciding >= 0.3);
}
