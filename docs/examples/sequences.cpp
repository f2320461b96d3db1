// docs/sequences.md: token ids through the sequence layers, with each claim of the page checked.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>

#include <cstddef>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "check.hpp"

namespace xf = xfuse;

constexpr std::size_t maxlen = 10, vocab = 8;

auto build() {
    auto tokens = xf::Input<maxlen>{};                                    // token ids
    auto x = xf::TokenAndPositionEmbedding<vocab, maxlen, 16>{}(tokens);  // (10, 16)
    auto h = xf::Dense<16, xf::relu>{}(x);                                // per position
    auto pooled = xf::GlobalAveragePooling1D{}(h);                        // (16)
    auto out = xf::Dense<2, xf::softmax>{}(pooled);
    return xf::Model{xf::inputs(tokens), out};
}

// Ids in [0, vocab); the label is one-hot [no, yes]: does token 3 occur?
void make_data(xt::xtensor<float, 2>& x, xt::xtensor<float, 2>& y, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<int> id(0, int(vocab) - 1);
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        bool found = false;
        for (std::size_t t = 0; t < maxlen; ++t) {
            int v = id(engine);
            while (s % 2 == 0 && v == 3)  // half the samples without token 3
                v = id(engine);
            x(s, t) = float(v);
            found = found || v == 3;
        }
        y(s, 0) = found ? 0.0f : 1.0f;
        y(s, 1) = found ? 1.0f : 0.0f;
    }
}

// The page's MultiHeadAttention calls, with the shapes they make.
void attention_calls() {
    auto query = xf::Input<3, 5>{};
    auto value = xf::Input<4, 3>{};
    auto key = xf::Input<4, 4>{};
    auto mask = xf::Input<3, 4>{};
    // clang-format off
    auto x = xf::Input<200, 32>{};
    auto attn = xf::MultiHeadAttention<2, 32, "mha">{}(x, x);                    // self-attention
    auto causal = xf::MultiHeadAttention<4, 16>{{.dropout = 0.1f, .use_causal_mask = true}}(x, x);
    auto cross = xf::MultiHeadAttention<2, 3, "", 2, 4>{}(query, value, key);    // key (S, Dk)
    auto masked = xf::MultiHeadAttention<2, 8>{}(query, value, value, mask);     // mask (T, S)
    // clang-format on
    static_assert(std::is_same_v<decltype(attn)::shape_type, xf::shape<200, 32>>);
    static_assert(std::is_same_v<decltype(causal)::shape_type, xf::shape<200, 32>>);
    static_assert(std::is_same_v<decltype(cross)::shape_type, xf::shape<3, 4>>);
    static_assert(std::is_same_v<decltype(masked)::shape_type, xf::shape<3, 5>>);
}

// The attention scores of a model's MultiHeadAttention, through a sub-model.
void attention_scores() {
    auto steps = xf::Input<6, 8>{};
    auto model = xf::Model{xf::inputs(steps), xf::MultiHeadAttention<2, 4, "mha">{}(steps, steps)};
    const xt::xtensor<float, 3> x = xt::random::randn<float>({3, 6, 8});
    auto scores = xf::Model{model.inputs(), model.get_layer<"mha">().attention_scores()};
    auto p = scores.predict(x);  // (N, H, T, S), each row summing to 1
    CHECK(p.shape(0) == 3 && p.shape(1) == 2 && p.shape(2) == 6 && p.shape(3) == 6);
    CHECK(xt::amax(xt::abs(xt::sum(p, {3}) - 1.0f))() < 1e-5f);
}

int main() {
    xf::clear_session();
    auto model = build();
    std::ostringstream summary;
    model.summary(summary);
    std::cout << summary.str();
    // 8 * 16 + 10 * 16 = 288 parameters in the two tables.
    CHECK(summary.str().find(" token_and_position_embeddin  (None, 10, 16)           288") !=
          std::string::npos);

    xt::xtensor<float, 2> x({512, maxlen}), y({512, 2});
    xt::xtensor<float, 2> x_test({256, maxlen}), y_test({256, 2});
    make_data(x, y, 1);
    make_data(x_test, y_test, 2);

    model.compile(xf::Adam{.learning_rate = 1e-2f}, xf::CategoricalCrossentropy{},
                  xf::metrics(xf::CategoricalAccuracy{}));
    model.fit(x, y, xf::FitOptions{.epochs = 20, .verbose = 0, .seed = 1});
    const double accuracy = model.evaluate(x_test, y_test)[1];

    std::cout << "test accuracy " << accuracy << "\n";
    CHECK(accuracy >= 0.95);

    x_test(4, 7) = 8.0f;  // one past the table
    try {
        model.predict(x_test);
    } catch (const std::out_of_range& e) {
        std::cout << e.what() << "\n";
        // xfuse: TokenAndPositionEmbedding 'token_and_position_embedding': sample 4, position 7:
        // token id 8 is outside [0, 8)
    }

    bool raised = false;
    try {
        model.predict(x_test);
    } catch (const std::out_of_range& e) {
        raised = std::string(e.what()).find("sample 4, position 7: token id 8 is outside [0, 8)") !=
                 std::string::npos;
    }
    CHECK(raised);
    attention_calls();
    attention_scores();
    return docs::exit_code();
}
