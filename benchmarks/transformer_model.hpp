// The Transformer classifier of examples/transformer_classifier.cpp (keras.io's "Text
// classification with Transformer") as the benchmarks build it, and its FLOPs per sample.
#pragma once

#include <cstddef>
#include <xfuse/xfuse.hpp>

namespace bench {

namespace xf = xfuse;

inline constexpr std::size_t tx_vocab = 20000, tx_maxlen = 200, tx_embed = 32, tx_heads = 2,
                             tx_ff = 32, tx_hidden = 20, tx_classes = 2;

// The example's model with every Dropout at `dropout` (a runtime rate; the example's is 0.1).
// Tagged layers (docs/identity.md): the layer types come from the named tags, not from where a
// lambda expression stands, so every translation unit including this header names one model.
inline auto build_transformer(float dropout) {
    namespace t = xf::tagged;
    auto tokens = t::Input<struct tx_tokens, tx_maxlen>{};
    auto x =
        t::TokenAndPositionEmbedding<struct tx_embedding, tx_vocab, tx_maxlen, tx_embed>{}(tokens);
    auto attn = t::MultiHeadAttention<struct tx_attention, tx_heads, tx_embed, "mha">{}(x, x);
    auto x1 = t::LayerNormalization<struct tx_norm1>{{.epsilon = 1e-6f}}(
        t::Add<struct tx_add1>{}(x, t::Dropout<struct tx_drop1>{dropout}(attn)));
    auto f = t::Dense<struct tx_ff2, tx_embed>{}(t::Dense<struct tx_ff1, tx_ff, xf::relu>{}(x1));
    auto x2 = t::LayerNormalization<struct tx_norm2>{{.epsilon = 1e-6f}}(
        t::Add<struct tx_add2>{}(x1, t::Dropout<struct tx_drop2>{dropout}(f)));
    auto pooled = t::GlobalAveragePooling1D<struct tx_pool>{}(x2);
    auto h = t::Dense<struct tx_dense_hidden, tx_hidden, xf::relu>{}(
        t::Dropout<struct tx_drop3>{dropout}(pooled));
    auto out = t::Dense<struct tx_head, tx_classes, xf::softmax>{}(
        t::Dropout<struct tx_drop4>{dropout}(h));
    return xf::Model{xf::inputs(tokens), out};
}

using transformer_model = decltype(build_transformer(0.0f));

// FLOPs per sample of the forward pass: 2 per multiply-add of the products (projections,
// scores, probabilities times values, the feed-forward and head Dense layers); embeddings
// lookups, biases, softmax, layer normalisation and pooling are not counted.
inline constexpr double transformer_flops() {
    constexpr double t = tx_maxlen, d = tx_embed, h = tx_heads, k = tx_embed;
    constexpr double projections = 3 * 2 * t * d * h * k + 2 * t * h * k * d;
    constexpr double attention = 2 * (2 * h * t * t * k);  // q kT and p v
    constexpr double feed_forward = 2 * t * d * tx_ff + 2 * t * tx_ff * d;
    constexpr double head = 2.0 * d * tx_hidden + 2.0 * tx_hidden * tx_classes;
    return projections + attention + feed_forward + head;
}

}  // namespace bench
