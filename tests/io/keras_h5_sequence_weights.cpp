// The sequence layers' weights in tf.keras 2.x HDF5 files: Keras' weight names (Embedding's
// embeddings:0; TokenAndPositionEmbedding's sublayer tables under their sublayers' names), and a
// trained token model's save/load round trip, bit for bit in weights and predictions.
#define BOOST_TEST_MODULE io_keras_h5_sequence_weights
#include <boost/test/unit_test.hpp>
#include <random>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

constexpr std::size_t steps = 6, vocabulary = 5;

auto token_model() {
    auto tokens = xf::Input<steps>{};
    auto x = xf::TokenAndPositionEmbedding<vocabulary, steps + 2, 4>{}(tokens);
    auto e = xf::Embedding<vocabulary, 4>{}(tokens);
    auto h = xf::Dense<3, xf::relu>{}(xf::Add{}(x, e));
    auto pooled = xf::GlobalMaxPooling1D{}(h);
    return xf::Model{xf::inputs(tokens), xf::Dense<2, xf::softmax>{}(pooled)};
}

xt::xtensor<float, 2> random_ids(std::size_t samples, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> id(0, int(vocabulary) - 1);
    xt::xtensor<float, 2> x({samples, steps});
    for (float& v : x)
        v = float(id(engine));
    return x;
}

}  // namespace

BOOST_AUTO_TEST_CASE(writes_keras_weight_names) {
    xf::clear_session();
    scratch_dir dir;
    auto model = token_model();
    model.save_weights(dir.path / "w.h5");
    const xf::io::detail::hdf5_session session;
    const auto file = xf::io::hdf5_file::open_read_only(dir.path / "w.h5");
    BOOST_TEST(file.read_strings("/", "layer_names") == model.layer_names());
    const std::string tape = "token_and_position_embedding";
    BOOST_TEST(file.read_strings("/" + tape, "weight_names") ==
               (std::vector<std::string>{tape + "/token_embedding/embeddings:0",
                                         tape + "/position_embedding/embeddings:0"}));
    BOOST_TEST(file.dataset("/" + tape + "/" + tape + "/token_embedding/embeddings:0").shape ==
               (std::vector<std::size_t>{vocabulary, 4}));
    BOOST_TEST(file.dataset("/" + tape + "/" + tape + "/position_embedding/embeddings:0").shape ==
               (std::vector<std::size_t>{steps + 2, 4}));
    BOOST_TEST(file.read_strings("/embedding", "weight_names") ==
               (std::vector<std::string>{"embedding/embeddings:0"}));
    BOOST_TEST(file.dataset("/embedding/embedding/embeddings:0").shape ==
               (std::vector<std::size_t>{vocabulary, 4}));
    BOOST_TEST(file.read_strings("/global_max_pooling1d", "weight_names").empty());
}

BOOST_AUTO_TEST_CASE(a_trained_token_model_round_trips) {
    xf::clear_session();
    scratch_dir dir;
    auto model = token_model();
    model.compile(xf::Adam{}, xf::CategoricalCrossentropy{});
    const auto x = random_ids(64, 1);
    xt::xtensor<float, 2> y = xt::zeros<float>({std::size_t{64}, std::size_t{2}});
    for (std::size_t s = 0; s < 64; ++s)
        y(s, x(s, 0) < 2.0f ? 0 : 1) = 1.0f;
    model.fit(x, y, xf::FitOptions{.epochs = 2, .verbose = 0, .seed = 1});
    model.save_weights(dir.path / "w.h5");

    auto other = token_model();
    BOOST_TEST(!same_bits(other.get_weights(), model.get_weights()));
    other.load_weights(dir.path / "w.h5");
    BOOST_TEST(same_bits(other.get_weights(), model.get_weights()));
    const auto a = model.predict(x), b = other.predict(x);
    BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
}
