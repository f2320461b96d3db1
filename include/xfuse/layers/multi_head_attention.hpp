// MultiHeadAttention<NumHeads, KeyDim, Name, ValueDim, OutputDim, UseBias>: tf.keras'
// MultiHeadAttention on sequences, attention over the steps of the samples.
//
//   auto y = xf::MultiHeadAttention<2, 32, "mha">{}(x, x);                 // self-attention
//   auto c = xf::MultiHeadAttention<4, 16>{{.use_causal_mask = true}}(q, v, k);
//   auto m = xf::MultiHeadAttention<2, 8>{}(q, v, v, mask);   // mask (T, S): 1 attends, 0 not
//
// Inputs: the query (T, D), the value (S, Dv), optionally the key (S, Dk) (the value when
// absent) and an attention mask (T, S) as a fourth input (then the key is given, the value again
// for self-attention): nonzero where query step t may attend to key step s, as Keras' boolean
// attention_mask. The output is (T, O), O = OutputDim, or D when OutputDim is 0 (Keras'
// output_shape=None).
//
// Weights, in Keras' order and names (the four EinsumDense sublayers): query/kernel (D, H, K),
// query/bias (H, K), key/kernel (Dk, H, K), key/bias (H, K), value/kernel (Dv, H, V),
// value/bias (H, V), attention_output/kernel (H, V, O), attention_output/bias (O); kernels
// Glorot-uniform over their full shape (Keras' fans of a rank-3 kernel), biases zeros. Without
// UseBias there are only the four kernels.
//
// Per head h: q = (query Wq[:, h] + bq[h]) / sqrt(K) (the query is scaled, not the scores),
// k = key Wk[:, h] + bk[h], v = value Wv[:, h] + bv[h]; p = softmax over s of q_t . k_s, where
// a masked (t, s) has -1e9 added to its logit in float (Keras' masked softmax), so that a fully
// masked row is uniform, never NaN; output = sum_h (p v) Wo[h] + bo. `dropout` drops attention
// probabilities in fit (inverted dropout, keyed like Dropout's masks); `use_causal_mask` masks
// s > t, as Keras' call argument of that name. Keras' automatic masks (from an Embedding's
// mask_zero) are not taken.
//
// Forward holds one head of one sample at a time: the head's projected keys and values (S rows)
// and one row of scores; backward recomputes the scores from the inputs the same way.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "../core/fixed_string.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/aligned_buffer.hpp"
#include "../kernels/dropout.hpp"
#include "../kernels/multi_head_attention.hpp"
#include "../kernels/reduce.hpp"
#include "layer.hpp"

namespace xfuse {

struct multi_head_attention_options {
    float dropout = 0.0f;          // rate on the attention probabilities, in fit only
    bool use_causal_mask = false;  // query step t attends to key steps s <= t only
};

namespace detail {

template <Shape S, std::size_t Axis>
constexpr std::size_t axis_or_zero() {
    if constexpr (Axis < S::rank)
        return S::dims[Axis];
    else
        return 0;
}

// The inputs of a MultiHeadAttention call and the sizes of its computation.
template <std::size_t H, std::size_t K, std::size_t ValueDim, std::size_t OutputDim, Shape... In>
struct attention_call {
    static_assert(sizeof...(In) >= 2 && sizeof...(In) <= 4,
                  "xfuse::MultiHeadAttention takes (query, value), (query, value, key) or "
                  "(query, value, key, attention_mask)");
    using all = std::tuple<In..., shape<1>, shape<1>, shape<1>>;
    using query = std::tuple_element_t<0, all>;
    using value = std::tuple_element_t<1, all>;
    static constexpr bool has_key = sizeof...(In) >= 3;
    static constexpr bool has_mask = sizeof...(In) == 4;
    using key = std::conditional_t<has_key, std::tuple_element_t<2, all>, value>;
    using mask = std::tuple_element_t<3, all>;

    static_assert(query::rank == 2,
                  "xfuse::MultiHeadAttention: the query takes samples of shape (steps, features)");
    static_assert(value::rank == 2,
                  "xfuse::MultiHeadAttention: the value takes samples of shape (steps, features)");
    static_assert(key::rank == 2,
                  "xfuse::MultiHeadAttention: the key takes samples of shape (steps, features)");
    static constexpr std::size_t T = axis_or_zero<query, 0>();
    static constexpr std::size_t S = axis_or_zero<value, 0>();
    static_assert(axis_or_zero<key, 0>() == S,
                  "xfuse::MultiHeadAttention: the key and the value need the same number of "
                  "steps");
    static_assert(!has_mask || (mask::rank == 2 && axis_or_zero<mask, 0>() == T &&
                                axis_or_zero<mask, 1>() == S),
                  "xfuse::MultiHeadAttention: the attention_mask (fourth input) must have shape "
                  "(T, S): the query's steps by the value's steps");

    static constexpr std::size_t D = query::last, Dv = value::last, Dk = key::last;
    static constexpr std::size_t V = ValueDim, O = OutputDim == 0 ? D : OutputDim;
    static constexpr std::size_t pK = padded(K), pV = padded(V), pO = padded(O), pS = padded(S);
    using output = shape<T, O>;
};

}  // namespace detail

template <class Attention>
struct MultiHeadAttentionScores;

template <std::size_t NumHeads, std::size_t KeyDim, fixed_string Name = "",
          std::size_t ValueDim = KeyDim, std::size_t OutputDim = 0, bool UseBias = true,
          class Tag = decltype([] {})>
struct MultiHeadAttention
    : layer<MultiHeadAttention<NumHeads, KeyDim, Name, ValueDim, OutputDim, UseBias, Tag>> {
    static_assert(NumHeads > 0 && KeyDim > 0 && ValueDim > 0,
                  "xfuse::MultiHeadAttention: NumHeads, KeyDim and ValueDim must be positive");

    static constexpr std::string_view class_name = "MultiHeadAttention";
    static constexpr std::string_view name = Name.view();
    static constexpr std::size_t num_heads = NumHeads, key_dim = KeyDim, value_dim = ValueDim;
    static constexpr bool use_bias = UseBias;

    float dropout = 0.0f;
    bool use_causal_mask = false;

    // The layer of this one's attention probabilities (model.get_layer<...>().attention_scores()).
    using scores_layer = MultiHeadAttentionScores<MultiHeadAttention>;

    MultiHeadAttention() = default;
    explicit MultiHeadAttention(multi_head_attention_options options)
        : dropout(options.dropout), use_causal_mask(options.use_causal_mask) {
        if (!(dropout >= 0.0f && dropout < 1.0f))
            throw std::invalid_argument(
                "xfuse::MultiHeadAttention: dropout must lie in [0, 1), got " +
                std::to_string(dropout));
    }

    template <Shape... In>
    using call = detail::attention_call<NumHeads, KeyDim, ValueDim, OutputDim, In...>;

    template <Shape... In>
    using output_shape = typename call<In...>::output;

    template <Shape... In>
    static constexpr auto weights_of() {
        using C = call<In...>;
        constexpr std::size_t H = NumHeads, K = KeyDim, V = ValueDim;
        constexpr auto g = initializer::glorot_uniform;
        constexpr auto z = initializer::zeros;
        constexpr weight_spec qk{"query/kernel", {C::D, H, K}, 3, g};
        constexpr weight_spec qb{"query/bias", {H, K}, 2, z};
        constexpr weight_spec kk{"key/kernel", {C::Dk, H, K}, 3, g};
        constexpr weight_spec kb{"key/bias", {H, K}, 2, z};
        constexpr weight_spec vk{"value/kernel", {C::Dv, H, V}, 3, g};
        constexpr weight_spec vb{"value/bias", {H, V}, 2, z};
        constexpr weight_spec ok{"attention_output/kernel", {H, V, C::O}, 3, g};
        constexpr weight_spec ob{"attention_output/bias", {C::O}, 1, z};
        if constexpr (UseBias)
            return std::array{qk, qb, kk, kb, vk, vb, ok, ob};
        else
            return std::array{qk, kk, vk, ok};
    }
    template <Shape... In>
    static constexpr auto weights = weights_of<In...>();

    // Keras 3 .weights.h5 keeps the sublayers under the layer's attributes query_dense, ...
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> keras3_sublayers{
        {{"query", "query_dense"},
         {"key", "key_dense"},
         {"value", "value_dense"},
         {"attention_output", "output_dense"}}};

    template <Shape... In>
    void forward(const float* params, std::size_t samples,
                 std::array<const float*, sizeof...(In)> in, float* out,
                 const call_context& context) const noexcept {
        using C = call<In...>;
        const auto p = parameters<In...>(params);
        float* scratch = scratch_of(C::S * (C::pK + C::pV) + C::pK + C::pS + C::pV);
        float* k = scratch;
        float* v = k + C::S * C::pK;
        float* q = v + C::S * C::pV;
        float* probabilities = q + C::pK;
        float* context_row = probabilities + C::pS;
        for (std::size_t s = 0; s < samples; ++s) {
            const auto x = sample_inputs<In...>(in, s);
            float* y = out + s * C::output::storage;
            for (std::size_t t = 0; t < C::T; ++t) {
                if (p.ob)
                    std::copy_n(p.ob, C::pO, y + t * C::pO);
                else
                    std::fill_n(y + t * C::pO, C::pO, 0.0f);
            }
            for (std::size_t h = 0; h < NumHeads; ++h) {
                project_keys_and_values<In...>(p, x, h, k, v);
                for (std::size_t t = 0; t < C::T; ++t) {
                    attention_row<In...>(p, x, h, t, k, q, probabilities);
                    apply_dropout<In...>(context, s, h, t, probabilities, probabilities);
                    std::fill_n(context_row, C::pV, 0.0f);
                    for (std::size_t j = 0; j < C::S; ++j)
                        kernels::add_scaled_row(probabilities[j], v + j * C::pV, context_row,
                                                C::pV);
                    for (std::size_t c = 0; c < ValueDim; ++c)
                        kernels::add_scaled_row(context_row[c], p.ok + (h * ValueDim + c) * C::pO,
                                                y + t * C::pO, C::pO);
                }
            }
        }
    }

    // The attention probabilities before dropout, Keras' return_attention_scores: `samples`
    // samples of (H, T, S), rows padded(S) floats apart.
    template <Shape... In>
    void scores(const float* params, std::size_t samples,
                std::array<const float*, sizeof...(In)> in, float* out) const noexcept {
        using C = call<In...>;
        const auto p = parameters<In...>(params);
        float* scratch = scratch_of(C::S * (C::pK + C::pV) + C::pK);
        float* k = scratch;
        float* v = k + C::S * C::pK;
        float* q = v + C::S * C::pV;
        for (std::size_t s = 0; s < samples; ++s) {
            const auto x = sample_inputs<In...>(in, s);
            for (std::size_t h = 0; h < NumHeads; ++h) {
                project_keys_and_values<In...>(p, x, h, k, v);
                for (std::size_t t = 0; t < C::T; ++t)
                    attention_row<In...>(p, x, h, t, k, q,
                                         out + ((s * NumHeads + h) * C::T + t) * C::pS);
            }
        }
    }

    // Recomputes each head's keys, values and probabilities, then runs the chain rule back
    // through the output projection, the weighted sum, the softmax (Keras' gradient of the
    // masked logits: the -1e9 addition passes the gradient unchanged) and the projections.
    template <Shape... In>
    void backward(const float* params, float* param_grads, std::size_t samples,
                  std::array<const float*, sizeof...(In)> in, const float*, const float* out_grad,
                  std::array<float*, sizeof...(In)> in_grad,
                  const call_context& context) const noexcept {
        using C = call<In...>;
        constexpr std::size_t H = NumHeads, V = ValueDim;
        const auto p = parameters<In...>(params);
        const auto g = parameters<In...>(param_grads);
        float* scratch = scratch_of(2 * C::S * (C::pK + C::pV) + C::T * C::pO + 3 * C::pK +
                                    3 * C::pS + 2 * C::pV);
        float* k = scratch;
        float* v = k + C::S * C::pK;
        float* dk = v + C::S * C::pV;
        float* dv = dk + C::S * C::pK;
        float* dy = dv + C::S * C::pV;  // the output gradient with zero padding lanes
        float* q = dy + C::T * C::pO;
        float* dq = q + C::pK;
        float* probabilities = dq + C::pK;
        float* dropped = probabilities + C::pS;
        float* dprobabilities = dropped + C::pS;
        float* context_row = dprobabilities + C::pS;
        float* dcontext = context_row + C::pV;
        const float scale = query_scale();
        float* query_grad = in_grad[0];
        float* value_grad = in_grad[1];
        float* key_grad = C::has_key ? in_grad[2 % in_grad.size()] : in_grad[1];
        for (std::size_t s = 0; s < samples; ++s) {
            const auto x = sample_inputs<In...>(in, s);
            for (std::size_t t = 0; t < C::T; ++t) {
                float* row = dy + t * C::pO;
                std::fill_n(row, C::pO, 0.0f);
                std::copy_n(out_grad + s * C::output::storage + t * C::pO, C::O, row);
                if (g.ob)
                    kernels::add_scaled_row(1.0f, row, g.ob, C::pO);
            }
            for (std::size_t h = 0; h < H; ++h) {
                project_keys_and_values<In...>(p, x, h, k, v);
                std::fill_n(dk, C::S * C::pK, 0.0f);
                std::fill_n(dv, C::S * C::pV, 0.0f);
                for (std::size_t t = 0; t < C::T; ++t) {
                    const float* row = dy + t * C::pO;
                    attention_row<In...>(p, x, h, t, k, q, probabilities);
                    apply_dropout<In...>(context, s, h, t, probabilities, dropped);
                    std::fill_n(context_row, C::pV, 0.0f);
                    for (std::size_t j = 0; j < C::S; ++j)
                        kernels::add_scaled_row(dropped[j], v + j * C::pV, context_row, C::pV);
                    // Output projection: dWo[h] += context^T dy, dcontext = dy Wo[h]^T.
                    const float* wo = p.ok + h * V * C::pO;
                    kernels::add_outer_rows(context_row, V, row, g.ok + h * V * C::pO, C::pO,
                                            C::pO);
                    std::fill_n(dcontext, C::pV, 0.0f);
                    kernels::add_project_row_transposed(row, wo, C::pO, V, dcontext, C::pO);
                    // Weighted sum: dv_j += p_j dcontext, dp_j = <dcontext, v_j>.
                    for (std::size_t j = 0; j < C::S; ++j) {
                        kernels::add_scaled_row(dropped[j], dcontext, dv + j * C::pV, C::pV);
                        dprobabilities[j] = kernels::dot(dcontext, v + j * C::pV, C::pV);
                    }
                    apply_dropout<In...>(context, s, h, t, dprobabilities, dprobabilities);
                    // Softmax: dlogit_j = p_j (dp_j - sum_i p_i dp_i).
                    float weighted = 0.0f;
                    for (std::size_t j = 0; j < C::S; ++j)
                        weighted = std::fma(probabilities[j], dprobabilities[j], weighted);
                    // Logits q . k_j: dq = sum_j dlogit_j k_j (then through the scaling),
                    // dk_j += dlogit_j q.
                    std::fill_n(dq, C::pK, 0.0f);
                    for (std::size_t j = 0; j < C::S; ++j) {
                        const float dlogit = probabilities[j] * (dprobabilities[j] - weighted);
                        kernels::add_scaled_row(dlogit, k + j * C::pK, dq, C::pK);
                        kernels::add_scaled_row(dlogit, q, dk + j * C::pK, C::pK);
                    }
                    for (std::size_t c = 0; c < C::pK; ++c)
                        dq[c] *= scale;
                    projection_backward<typename C::query, KeyDim>(
                        p.qk, g.qk, g.qb, h, x.query + t * C::query::row_stride, dq,
                        query_grad ? query_grad + s * C::query::storage + t * C::query::row_stride
                                   : nullptr);
                }
                for (std::size_t j = 0; j < C::S; ++j) {
                    projection_backward<typename C::key, KeyDim>(
                        p.kk, g.kk, g.kb, h, x.key + j * C::key::row_stride, dk + j * C::pK,
                        key_grad ? key_grad + s * C::key::storage + j * C::key::row_stride
                                 : nullptr);
                    projection_backward<typename C::value, ValueDim>(
                        p.vk, g.vk, g.vb, h, x.value + j * C::value::row_stride, dv + j * C::pV,
                        value_grad ? value_grad + s * C::value::storage + j * C::value::row_stride
                                   : nullptr);
                }
            }
        }
    }

  private:
    // Where each weight lies in the parameter buffer (the order of `weights`); biases null
    // without UseBias.
    template <class T>
    struct parameter_view {
        T *qk, *qb, *kk, *kb, *vk, *vb, *ok, *ob;
    };
    template <Shape... In, class T>
    static parameter_view<T> parameters(T* params) noexcept {
        constexpr auto specs = weights<In...>;
        std::array<T*, specs.size()> at{};
        T* next = params;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            at[i] = next;
            next += specs[i].storage();
        }
        if constexpr (UseBias)
            return {at[0], at[1], at[2], at[3], at[4], at[5], at[6], at[7]};
        else
            return {at[0], nullptr, at[1], nullptr, at[2], nullptr, at[3], nullptr};
    }

    // One sample's inputs; the key is the value when not given, the mask null.
    struct sample_pointers {
        const float *query, *value, *key, *mask;
    };
    template <Shape... In>
    static sample_pointers sample_inputs(const std::array<const float*, sizeof...(In)>& in,
                                         std::size_t s) noexcept {
        using C = call<In...>;
        constexpr std::size_t n = sizeof...(In);
        sample_pointers x{in[0] + s * C::query::storage, in[1] + s * C::value::storage, nullptr,
                          nullptr};
        x.key = C::has_key ? in[2 % n] + s * C::key::storage : x.value;
        if constexpr (C::has_mask)
            x.mask = in[3 % n] + s * C::mask::storage;
        return x;
    }

    // 1 / sqrt(key_dim) as Keras multiplies the query by it, in float.
    static float query_scale() noexcept {
        return static_cast<float>(1.0 / std::sqrt(static_cast<double>(KeyDim)));
    }

    // A scratch buffer of at least n floats per thread: allocated by the first call that needs
    // more, so that the calls after it allocate nothing.
    static float* scratch_of(std::size_t n) noexcept {
        thread_local aligned_buffer buffer;
        if (buffer.size() < n)
            buffer = aligned_buffer(n);
        return buffer.data();
    }

    // Head h's keys and values of the sample: S rows each, padded(K) and padded(V) floats.
    template <Shape... In>
    static void project_keys_and_values(const parameter_view<const float>& p,
                                        const sample_pointers& x, std::size_t h, float* k,
                                        float* v) noexcept {
        using C = call<In...>;
        constexpr std::size_t H = NumHeads;
        for (std::size_t j = 0; j < C::S; ++j) {
            kernels::project_row(x.key + j * C::key::row_stride, C::Dk, p.kk + h * C::pK, H * C::pK,
                                 p.kb ? p.kb + h * C::pK : nullptr, k + j * C::pK, C::pK);
            kernels::project_row(x.value + j * C::value::row_stride, C::Dv, p.vk + h * C::pV,
                                 H * C::pV, p.vb ? p.vb + h * C::pV : nullptr, v + j * C::pV,
                                 C::pV);
        }
    }

    // Query step t of head h: its scaled projection into q, and its attention probabilities
    // over the S key steps into `probabilities` (padded(S) floats, aligned).
    template <Shape... In>
    void attention_row(const parameter_view<const float>& p, const sample_pointers& x,
                       std::size_t h, std::size_t t, const float* k, float* q,
                       float* probabilities) const noexcept {
        using C = call<In...>;
        constexpr std::size_t H = NumHeads;
        kernels::project_row(x.query + t * C::query::row_stride, C::D, p.qk + h * C::pK, H * C::pK,
                             p.qb ? p.qb + h * C::pK : nullptr, q, C::pK);
        const float scale = query_scale();
        for (std::size_t c = 0; c < C::pK; ++c)
            q[c] *= scale;
        for (std::size_t j = 0; j < C::S; ++j) {
            float logit = kernels::dot(q, k + j * C::pK, C::pK);
            const bool masked = (use_causal_mask && j > t) ||
                                (x.mask && x.mask[t * C::mask::row_stride + j] == 0.0f);
            // Keras' scores + (1 - mask) * -1e9, in float: every masked logit of magnitude
            // below 32 becomes exactly -1e9, so a fully masked row is uniform.
            if (masked)
                logit += -1e9f;
            probabilities[j] = logit;
        }
        softmax_t::apply_row(probabilities, C::S);
    }

    // to = from with the dropout of fit applied (identity otherwise); element (h, t, j) of the
    // sample's (H, T, S) probabilities has its own draw, the same in forward and backward.
    template <Shape... In>
    void apply_dropout(const call_context& context, std::size_t s, std::size_t h, std::size_t t,
                       const float* from, float* to) const noexcept {
        using C = call<In...>;
        if (!context.training || dropout == 0.0f) {
            if (to != from)
                std::copy_n(from, C::pS, to);
            return;
        }
        const kernels::dropout_key key{context.seed, context.epoch, context.layer,
                                       context.sample_ids ? context.sample_ids[s] : s};
        const std::uint64_t stream = kernels::detail::sample_stream(key);
        const float kept_scale = 1.0f / (1.0f - dropout);
        for (std::size_t j = 0; j < C::S; ++j) {
            const std::uint64_t index = (h * C::T + t) * C::S + j;
            to[j] = kernels::detail::kept(stream, index, dropout) ? from[j] * kept_scale : 0.0f;
        }
    }

    // The gradient of one projected row (head h of x W + b, Units wide): dW[:, h] += x^T d,
    // db[h] += d, dx += d W[:, h]^T (dx null when not asked for).
    template <Shape In, std::size_t Units>
    static void projection_backward(const float* kernel, float* kernel_grad, float* bias_grad,
                                    std::size_t h, const float* x, const float* d,
                                    float* dx) noexcept {
        constexpr std::size_t width = padded(Units), stride = NumHeads * width;
        if (bias_grad)
            kernels::add_scaled_row(1.0f, d, bias_grad + h * width, width);
        kernels::add_outer_rows(x, In::last, d, kernel_grad + h * width, stride, width);
        if (dx)
            kernels::add_project_row_transposed(d, kernel + h * width, stride, In::last, dx, width);
    }
};

// The attention probabilities of a MultiHeadAttention `Attention` on the same inputs, (H, T, S)
// per sample (Keras' return_attention_scores, before dropout): the same weights, found under
// the attention layer's (weights_owner), and its options. It stands for that layer in a model:
// the same class name, name and weights. Inference only.
template <class Attention>
struct MultiHeadAttentionScores : layer<MultiHeadAttentionScores<Attention>> {
    using weights_owner = Attention;
    static constexpr std::string_view class_name = Attention::class_name;
    static constexpr std::string_view name = Attention::name;

    Attention attention{};

    MultiHeadAttentionScores() = default;
    explicit MultiHeadAttentionScores(const Attention& of) : attention(of) {}

    template <Shape... In>
    using output_shape = shape<Attention::num_heads, Attention::template call<In...>::T,
                               Attention::template call<In...>::S>;

    template <Shape... In>
    static constexpr auto weights = Attention::template weights<In...>;

    template <Shape... In>
    void forward(const float* params, std::size_t samples,
                 std::array<const float*, sizeof...(In)> in, float* out) const noexcept {
        attention.template scores<In...>(params, samples, in, out);
    }
};

}  // namespace xfuse
