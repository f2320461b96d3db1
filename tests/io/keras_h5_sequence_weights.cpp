// The sequence layers' weights in tf.keras 2.x HDF5 files: Keras' weight names (Embedding's
// embeddings:0; TokenAndPositionEmbedding's sublayer tables under their sublayers' names;
// MultiHeadAttention's query, key, value and attention_output kernels and biases),
// LayerNormalization's gamma and beta, and a trained token model's save/load round trip, bit for
// bit in weights and predictions.
#define BOOST_TEST_MODULE io_keras_h5_sequence_weights
#include <boost/test/unit_test.hpp>
#include <random>
#include <utility>
#include <vector>
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

// The files of tests/data/make_sequence_h5_fixtures.py: weight `w` of the `l`-th layer with
// weights holds weight_value(variant, l, w, k) at flat index k.
std::vector<xt::xarray<float>> sequence_fixture(std::vector<xt::xarray<float>> like,
                                                const std::vector<std::pair<int, int>>& at,
                                                int variant) {
    for (std::size_t i = 0; i < like.size(); ++i)
        for (std::size_t k = 0; k < like[i].size(); ++k)
            like[i].data()[k] = weight_value(variant, at[i].first, at[i].second, k);
    return like;
}

BOOST_AUTO_TEST_CASE(reads_the_h5py_fixtures_of_both_embeddings) {
    xf::clear_session();
    {
        // embedding_tf2.h5: Input (6), Embedding(11, 8), GlobalAveragePooling1D, Dense(2).
        auto ids = xf::Input<6>{};
        auto pooled = xf::GlobalAveragePooling1D{}(xf::Embedding<11, 8>{}(ids));
        auto model = xf::Model{xf::inputs(ids), xf::Dense<2>{}(pooled)};
        model.load_weights(fixture("embedding_tf2.h5"));
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), {{0, 0}, {1, 0}, {1, 1}}, 25)));
    }
    {
        // transformer_tf2.h5's token_and_position_embedding (11, 6, 8), by name: the nested
        // names token_embedding/embeddings:0 and position_embedding/embeddings:0.
        auto ids = xf::Input<6>{};
        auto model = xf::Model{xf::inputs(ids), xf::TokenAndPositionEmbedding<11, 6, 8>{}(ids)};
        model.load_weights(fixture("transformer_tf2.h5"), xf::by_name);
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), {{0, 0}, {0, 1}}, 21)));
    }
}

// transformer_tf2.h5's two LayerNormalization layers (layers 2 and 5), by name: gamma:0 then
// beta:0. (Keras 3 files are matched by position, as Keras 3 does: the whole Transformer.)
BOOST_AUTO_TEST_CASE(reads_layer_normalization_by_name) {
    xf::clear_session();
    auto x = xf::Input<6, 8>{};
    auto first = xf::LayerNormalization{{.epsilon = 1e-6f}}(x);
    auto model = xf::Model{xf::inputs(x), xf::LayerNormalization{{.epsilon = 1e-6f}}(first)};
    model.load_weights(fixture("transformer_tf2.h5"), xf::by_name);
    BOOST_TEST(
        same_bits(model.get_weights(),
                  sequence_fixture(model.get_weights(), {{2, 0}, {2, 1}, {5, 0}, {5, 1}}, 21)));
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

namespace {

// Weight w of the l-th layer with weights, for w < count.
std::vector<std::pair<int, int>> layer_weights(int l, int count) {
    std::vector<std::pair<int, int>> at;
    for (int w = 0; w < count; ++w)
        at.emplace_back(l, w);
    return at;
}

// mha_cross_tf2.h5's model: query (3, 5), value (4, 3), key (4, 4), H = 2, key_dim = 3,
// value_dim = 2, output_shape = 4.
template <bool UseBias>
auto cross_attention_model() {
    // Inputs tagged by hand: g++ 12 cannot default a layer's tag inside a template.
    auto q = xf::tagged::Input<struct query, 3, 5>{};
    auto v = xf::tagged::Input<struct value, 4, 3>{};
    auto k = xf::tagged::Input<struct key, 4, 4>{};
    auto y = xf::MultiHeadAttention<2, 3, "mha", 2, 4, UseBias, void>{}(q, v, k);
    return xf::Model{xf::inputs(q, v, k), y};
}

}  // namespace

BOOST_AUTO_TEST_CASE(writes_multi_head_attention_weight_names) {
    xf::clear_session();
    scratch_dir dir;
    auto model = cross_attention_model<true>();
    model.save_weights(dir.path / "w.h5");
    const xf::io::detail::hdf5_session session;
    const auto file = xf::io::hdf5_file::open_read_only(dir.path / "w.h5");
    const std::vector<std::string> names{"mha/query/kernel:0",
                                         "mha/query/bias:0",
                                         "mha/key/kernel:0",
                                         "mha/key/bias:0",
                                         "mha/value/kernel:0",
                                         "mha/value/bias:0",
                                         "mha/attention_output/kernel:0",
                                         "mha/attention_output/bias:0"};
    BOOST_TEST(file.read_strings("/mha", "weight_names") == names);
    const std::vector<std::vector<std::size_t>> shapes{{5, 2, 3}, {2, 3}, {4, 2, 3}, {2, 3},
                                                       {3, 2, 2}, {2, 2}, {2, 2, 4}, {4}};
    for (std::size_t i = 0; i < names.size(); ++i)
        BOOST_TEST(file.dataset("/mha/" + names[i]).shape == shapes[i], names[i]);
}

BOOST_AUTO_TEST_CASE(reads_multi_head_attention_from_the_h5py_fixtures) {
    xf::clear_session();
    {
        // mha_cross_tf2.h5: by order and by name.
        auto model = cross_attention_model<true>();
        model.load_weights(fixture("mha_cross_tf2.h5"));
        const auto expected = sequence_fixture(model.get_weights(), layer_weights(0, 8), 23);
        BOOST_TEST(same_bits(model.get_weights(), expected));
        auto other = cross_attention_model<true>();
        other.load_weights(fixture("mha_cross_tf2.h5"), xf::by_name);
        BOOST_TEST(same_bits(other.get_weights(), expected));
    }
    {
        // mha_no_bias_tf2.h5: use_bias=False, the four kernels.
        auto model = cross_attention_model<false>();
        model.load_weights(fixture("mha_no_bias_tf2.h5"));
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), layer_weights(0, 4), 24)));
        // A layer with biases does not take the file's four weights.
        auto with_bias = cross_attention_model<true>();
        BOOST_CHECK_THROW(with_bias.load_weights(fixture("mha_no_bias_tf2.h5")),
                          xf::io::weight_file_error);
    }
    {
        // transformer_tf2.h5's self-attention layer "mha" (layer 1), by name.
        auto x = xf::Input<6, 8>{};
        auto model = xf::Model{xf::inputs(x), xf::MultiHeadAttention<2, 8, "mha">{}(x, x)};
        model.load_weights(fixture("transformer_tf2.h5"), xf::by_name);
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), layer_weights(1, 8), 21)));
        // bad_mha_wrong_shape.h5 holds query/kernel as (8, 16): refused, naming the weight.
        const auto before = model.get_weights();
        try {
            model.load_weights(fixture("bad_mha_wrong_shape.h5"), xf::by_name);
            BOOST_ERROR("a (8, 16) query kernel was loaded into (8, 2, 8)");
        } catch (const xf::io::weight_file_error& error) {
            const std::string message = error.what();
            BOOST_TEST(message.find("query/kernel") != std::string::npos, message);
            BOOST_TEST(message.find("(8, 2, 8)") != std::string::npos, message);
        }
        BOOST_TEST(same_bits(model.get_weights(), before));
    }
}

// Keras 3 files keep sublayers' variables under the layer's attributes: MultiHeadAttention's at
// layers/multi_head_attention/{query,key,value,output}_dense/vars/{0,1},
// TokenAndPositionEmbedding's at .../{token,position}_embedding/vars/0. Layers are matched by
// class path, so a model holding one such layer reads the file's first.
BOOST_AUTO_TEST_CASE(reads_sublayer_weights_from_keras3_files) {
    xf::clear_session();
    {
        auto x = xf::Input<6, 8>{};
        auto model = xf::Model{xf::inputs(x), xf::MultiHeadAttention<2, 8, "mha">{}(x, x)};
        model.load_weights(fixture("transformer_keras3.weights.h5"));
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), layer_weights(1, 8), 22)));
        const auto before = model.get_weights();
        try {
            model.load_weights(fixture("bad_keras3_missing_mha_output.weights.h5"));
            BOOST_ERROR("a file without output_dense was loaded");
        } catch (const xf::io::weight_file_error& error) {
            const std::string message = error.what();
            BOOST_TEST(message.find("output_dense") != std::string::npos, message);
        }
        BOOST_TEST(same_bits(model.get_weights(), before));
    }
    {
        auto ids = xf::Input<6>{};
        auto model = xf::Model{xf::inputs(ids), xf::TokenAndPositionEmbedding<11, 6, 8>{}(ids)};
        model.load_weights(fixture("transformer_keras3.weights.h5"));
        BOOST_TEST(same_bits(model.get_weights(),
                             sequence_fixture(model.get_weights(), layer_weights(0, 2), 22)));
    }
}
