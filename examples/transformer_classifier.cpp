// keras.io's "Text classification with Transformer", written with xfuse's functional layers:
// token and position embeddings, one Transformer block (self-attention, residuals, layer
// normalisation, a feed-forward network per position), average pooling and a softmax head.
// It trains on a synthetic task (does token 7 occur?), predicts, and prints where one sample's
// attention goes.
#include <xfuse/xfuse.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstddef>
#include <iostream>
#include <numeric>
#include <random>
#include <vector>

namespace xf = xfuse;
constexpr std::size_t vocab = 20000, maxlen = 200, embed = 32, heads = 2, ff = 32;

// Token ids in [1, vocab), token 7 planted at a random step in every other sample; the label is
// the class index: 1 when token 7 occurs.
void make_task(xt::xtensor<float, 2>& x, xt::xtensor<float, 1>& y, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> token(1, int(vocab) - 1);
    std::uniform_int_distribution<std::size_t> step(0, maxlen - 1);
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        for (std::size_t t = 0; t < maxlen; ++t) {
            int id = token(engine);
            while (id == 7)
                id = token(engine);
            x(s, t) = float(id);
        }
        y(s) = float(s % 2);
        if (s % 2 == 1)
            x(s, step(engine)) = 7.0f;
    }
}

int main() {
    auto tokens = xf::Input<maxlen>{};                                       // token ids
    auto x = xf::TokenAndPositionEmbedding<vocab, maxlen, embed>{}(tokens);  // (200, 32)
    auto attn = xf::MultiHeadAttention<heads, embed, "mha">{}(x, x);         // self-attention
    auto x1 = xf::LayerNormalization{{.epsilon = 1e-6f}}(xf::Add{}(x, xf::Dropout{0.1f}(attn)));
    auto f = xf::Dense<embed>{}(xf::Dense<ff, xf::relu>{}(x1));  // per position
    auto x2 = xf::LayerNormalization{{.epsilon = 1e-6f}}(xf::Add{}(x1, xf::Dropout{0.1f}(f)));
    auto pooled = xf::GlobalAveragePooling1D{}(x2);  // (32)
    auto h = xf::Dense<20, xf::relu>{}(xf::Dropout{0.1f}(pooled));
    auto out = xf::Dense<2, xf::softmax>{}(xf::Dropout{0.1f}(h));

    auto model = xf::Model{xf::inputs(tokens), out};
    model.compile(xf::Adam{}, xf::SparseCategoricalCrossentropy{},
                  xf::metrics(xf::SparseCategoricalAccuracy{}));
    model.summary();  // TF 2.7-2.12 format; Total params: 657,758

    // The attention weights, as the notebook inspects its attention layer: (2, 200, 200) per
    // sample, each row summing to 1, from a sub-model that shares the model's weights.
    auto scores = xf::Model{model.inputs(), model.get_layer<"mha">().attention_scores()};

    xt::xtensor<float, 2> x_train({512, maxlen}), x_test({128, maxlen});
    xt::xtensor<float, 1> y_train = xt::zeros<float>({512}), y_test = xt::zeros<float>({128});
    make_task(x_train, y_train, 1);
    make_task(x_test, y_test, 2);
    model.fit(x_train, y_train, {.epochs = 2, .batch_size = 32, .validation_split = 0.25f});
    const auto result = model.evaluate(x_test, y_test);
    std::cout << "test loss " << result.at(0) << ", accuracy " << result.at(1) << "\n";

    // Sample 1 holds token 7: for each head, the steps that the 200 query steps attend to most,
    // on average.
    const xt::xtensor<float, 2> sample = xt::view(x_test, xt::range(1, 2), xt::all());
    const xt::xtensor<float, 4> p = scores.predict(sample);  // (1, 2, 200, 200)
    const auto seven = std::find(sample.begin(), sample.end(), 7.0f) - sample.begin();
    std::cout << "sample 1: token 7 at step " << seven << "\n";
    for (std::size_t head = 0; head < heads; ++head) {
        std::vector<double> received(maxlen, 0.0);
        for (std::size_t t = 0; t < maxlen; ++t)
            for (std::size_t s = 0; s < maxlen; ++s)
                received[s] += p(0, head, t, s) / maxlen;
        std::vector<std::size_t> order(maxlen);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                          [&](std::size_t a, std::size_t b) { return received[a] > received[b]; });
        std::cout << "head " << head << ": most attended steps";
        for (std::size_t i = 0; i < 3; ++i)
            std::cout << " " << order[i] << " (" << received[order[i]] << ")";
        std::cout << "; row 0 sums to "
                  << std::accumulate(&p(0, head, 0, 0), &p(0, head, 0, 0) + maxlen, 0.0) << "\n";
    }
}
