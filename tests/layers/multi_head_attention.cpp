// MultiHeadAttention: the numpy float64 reference of tests/data/make_sequence_fixtures.py
// (tf-keras tf_keras/layers/attention/multi_head_attention.py: H=2, key_dim=3, value_dim=2,
// output_shape=4; no mask, an attention mask with a fully masked row, a causal mask): outputs,
// scores, input and weight gradients; the conformance check (forward against an independent
// double reference, one sample against the batch, fused against plain, central differences) at
// feature sizes around the SIMD width, with and without key, masks, causal mask and biases;
// Keras' weight names, shapes and initialisers; the summary row; dropout.
#define BOOST_TEST_MODULE layers_multi_head_attention
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <vector>
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>

#include "support/fixture_reader.hpp"

namespace xf = xfuse;
namespace t = xf::testing;

namespace {

// ---- an independent double reference, on plain row-major tensors ----------------------------

// Keras' MultiHeadAttention for check_layer: inputs (query, value[, key[, mask]]), params in
// get_weights() order. A fully masked row has logits s - 1e9 that float rounds to exactly -1e9:
// uniform weights, and TensorFlow's gradient of the addition is the identity, so the gradient
// is softmax's at the uniform point. softmax(s - s0), s0 the row's logits at the first call
// (check_layer's unperturbed one), is that function: uniform at s0, with that Jacobian.
struct attention_reference {
    bool use_bias = true;
    bool causal = false;
    std::map<std::size_t, std::vector<double>> base;  // fully masked rows' first logits

    t::tensor operator()(const std::vector<t::tensor>& params,
                         const std::vector<t::tensor>& inputs) {
        const t::tensor& query = inputs[0];
        const t::tensor& value = inputs[1];
        const t::tensor& key = inputs.size() >= 3 ? inputs[2] : inputs[1];
        const t::tensor* mask = inputs.size() == 4 ? &inputs[3] : nullptr;
        const std::size_t b = use_bias ? 2 : 1;
        const t::tensor &wq = params[0], &wk = params[b], &wv = params[2 * b], &wo = params[3 * b];
        const std::size_t N = query.shape[0], T = query.shape[1], D = query.shape[2];
        const std::size_t S = value.shape[1], Dv = value.shape[2], Dk = key.shape[2];
        const std::size_t H = wq.shape[1], K = wq.shape[2], V = wv.shape[2], O = wo.shape[2];
        const auto bias = [&](std::size_t which, std::size_t i) {
            return use_bias ? params[2 * which + 1].values[i] : 0.0;
        };
        const double scale = double(float(1.0 / std::sqrt(double(K))));
        t::tensor out{{N, T, O}, std::vector<double>(N * T * O)};
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t h = 0; h < H; ++h) {
                // Projections of this head.
                std::vector<double> q(T * K), k(S * K), v(S * V);
                for (std::size_t i = 0; i < T; ++i)
                    for (std::size_t c = 0; c < K; ++c) {
                        double sum = bias(0, h * K + c);
                        for (std::size_t d = 0; d < D; ++d)
                            sum +=
                                query.values[(n * T + i) * D + d] * wq.values[(d * H + h) * K + c];
                        q[i * K + c] = sum * scale;
                    }
                for (std::size_t j = 0; j < S; ++j) {
                    for (std::size_t c = 0; c < K; ++c) {
                        double sum = bias(1, h * K + c);
                        for (std::size_t d = 0; d < Dk; ++d)
                            sum +=
                                key.values[(n * S + j) * Dk + d] * wk.values[(d * H + h) * K + c];
                        k[j * K + c] = sum;
                    }
                    for (std::size_t c = 0; c < V; ++c) {
                        double sum = bias(2, h * V + c);
                        for (std::size_t d = 0; d < Dv; ++d)
                            sum +=
                                value.values[(n * S + j) * Dv + d] * wv.values[(d * H + h) * V + c];
                        v[j * V + c] = sum;
                    }
                }
                for (std::size_t i = 0; i < T; ++i) {
                    std::vector<double> logits(S);
                    std::vector<bool> attends(S);
                    bool any = false;
                    for (std::size_t j = 0; j < S; ++j) {
                        for (std::size_t c = 0; c < K; ++c)
                            logits[j] += q[i * K + c] * k[j * K + c];
                        attends[j] = !(causal && j > i) &&
                                     !(mask && std::round(mask->values[(n * T + i) * S + j]) == 0);
                        any = any || attends[j];
                    }
                    if (!any) {
                        const std::size_t row = (n * H + h) * T + i;
                        const auto [at, fresh] = base.try_emplace(row, logits);
                        for (std::size_t j = 0; j < S; ++j)
                            logits[j] -= at->second[j];
                    } else {
                        for (std::size_t j = 0; j < S; ++j)
                            if (!attends[j])
                                logits[j] = -1e9;
                    }
                    double top = logits[0], sum = 0;
                    for (double l : logits)
                        top = std::max(top, l);
                    for (double& l : logits)
                        sum += (l = std::exp(l - top));
                    for (std::size_t o = 0; o < O; ++o) {
                        double y = 0;
                        for (std::size_t c = 0; c < V; ++c) {
                            double context = 0;
                            for (std::size_t j = 0; j < S; ++j)
                                context += logits[j] / sum * v[j * V + c];
                            y += context * wo.values[(h * V + c) * O + o];
                        }
                        out.values[(n * T + i) * O + o] += y;
                    }
                }
            }
        if (use_bias)
            for (std::size_t r = 0; r < N * T; ++r)
                for (std::size_t o = 0; o < O; ++o)
                    out.values[r * O + o] += params[7].values[o];
        return out;
    }
};

template <class L, xf::Shape... In>
void check(const L& layer, bool integer_inputs = false) {
    t::check_options options;
    // Only the mask reads integers: the other inputs of 0 and 1 are as good as any.
    if (integer_inputs)
        options.integer_inputs = 2;
    options.fused_tolerance = 0;
    attention_reference reference{L::use_bias, layer.use_causal_mask, {}};
    const t::check_result result = t::check_layer<L, In...>(layer, reference, options);
    BOOST_TEST(result.passed, result.message);
    BOOST_TEST_MESSAGE("worst relative error: forward " << result.worst_forward_error
                                                        << ", gradients "
                                                        << result.worst_gradient_error);
}

// ---- the numpy fixture ----------------------------------------------------------------------

// H = 2, key_dim = 3, value_dim = 2, output_shape = 4; query (3, 5), value (4, 3), key (4, 4).
using fixture_layer = xf::MultiHeadAttention<2, 3, "", 2, 4, true, void>;
using Q = xf::shape<3, 5>;
using Vs = xf::shape<4, 3>;
using Ks = xf::shape<4, 4>;
using M = xf::shape<3, 4>;
using Out = xf::shape<3, 4>;
constexpr std::size_t batch = 2;

// `rows` logical rows of a fixture array (row-major, `last` wide) into padded storage.
xf::aligned_buffer padded_rows(const std::vector<double>& values, std::size_t last,
                               float padding = 0.0f) {
    const std::size_t rows = values.size() / last;
    xf::aligned_buffer buffer(rows * xf::padded(last));
    std::fill_n(buffer.data(), buffer.size(), padding);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < last; ++c)
            buffer.data()[r * xf::padded(last) + c] = float(values[r * last + c]);
    return buffer;
}

double worst_error(const float* actual, const fixture::array& expected, std::size_t last) {
    double worst = 0;
    for (std::size_t i = 0; i < expected.values.size(); ++i) {
        const double a = actual[i / last * xf::padded(last) + i % last];
        const double error = std::abs(a - expected.values[i]) / (1 + std::abs(expected.values[i]));
        if (!(error <= worst))  // a NaN counts as the worst error
            worst = std::isnan(error) ? INFINITY : error;
    }
    return worst;
}

const std::vector<std::string> weight_names{"query/kernel",
                                            "query/bias",
                                            "key/kernel",
                                            "key/bias",
                                            "value/kernel",
                                            "value/bias",
                                            "attention_output/kernel",
                                            "attention_output/bias"};

xt::xarray<float> to_array(const std::vector<double>& values, std::vector<std::size_t> shape) {
    auto a = xt::xarray<float>::from_shape(shape);
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

struct fixture_case {
    std::string name;
    bool mask = false;
    bool causal = false;
};

}  // namespace

BOOST_AUTO_TEST_CASE(matches_the_numpy_reference) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_fixture.txt");
    constexpr auto specs = fixture_layer::weights<Q, Vs, Ks, M>;
    xf::aligned_buffer params(xf::total_storage(specs));
    std::vector<xt::xarray<float>> weights;
    for (std::size_t w = 0, at = 0; w < specs.size(); at += specs[w++].storage()) {
        const auto stored =
            padded_rows(data.at("mha_weight/" + weight_names[w]).values, specs[w].last());
        std::copy_n(stored.data(), specs[w].storage(), params.data() + at);
        auto value = xt::xarray<float>::from_shape(
            std::vector<std::size_t>(specs[w].dims.begin(), specs[w].dims.begin() + specs[w].rank));
        const auto& from = data.at("mha_weight/" + weight_names[w]).values;
        std::copy(from.begin(), from.end(), value.begin());
        weights.push_back(value);
    }
    const float nan = std::nanf("");  // the inputs' padding lanes are never read
    const auto query = padded_rows(data.at("mha_query").values, 5, nan);
    const auto value = padded_rows(data.at("mha_value").values, 3, nan);
    const auto key = padded_rows(data.at("mha_key").values, 4, nan);
    std::vector<double> mask_values;
    for (std::size_t n = 0; n < batch; ++n)
        for (double m : data.at("mha_attention_mask").values)
            mask_values.push_back(m);
    const auto mask = padded_rows(mask_values, 4, nan);
    const auto upstream = padded_rows(data.at("mha_upstream").values, 4, nan);

    for (const fixture_case& c : {fixture_case{"plain"}, fixture_case{"attention_mask", true},
                                  fixture_case{"causal", false, true}}) {
        BOOST_TEST_CONTEXT("case " << c.name) {
            const std::string prefix = "mha_" + c.name + "_";
            const fixture_layer layer{{.use_causal_mask = c.causal}};
            xf::aligned_buffer out(batch * Out::storage), scores(batch * 2 * 3 * xf::padded(4));
            xf::aligned_buffer grads(params.size()), dquery(query.size()), dvalue(value.size()),
                dkey(key.size());
            const auto run = [&]<xf::Shape... In>(auto inputs, auto input_grads) {
                layer.forward<In...>(params.data(), batch, inputs, out.data(), xf::call_context{});
                layer.scores<In...>(params.data(), batch, inputs, scores.data());
                layer.backward<In...>(params.data(), grads.data(), batch, inputs, out.data(),
                                      upstream.data(), input_grads, xf::call_context{});
            };
            if (c.mask)
                run.operator()<Q, Vs, Ks, M>(
                    std::array<const float*, 4>{query.data(), value.data(), key.data(),
                                                mask.data()},
                    std::array<float*, 4>{dquery.data(), dvalue.data(), dkey.data(), nullptr});
            else
                run.operator()<Q, Vs, Ks>(
                    std::array<const float*, 3>{query.data(), value.data(), key.data()},
                    std::array<float*, 3>{dquery.data(), dvalue.data(), dkey.data()});
            BOOST_TEST(worst_error(out.data(), data.at(prefix + "output"), 4) < 1e-5);
            BOOST_TEST(worst_error(scores.data(), data.at(prefix + "scores"), 4) < 1e-5);
            BOOST_TEST(worst_error(dquery.data(), data.at(prefix + "dquery"), 5) < 1e-5);
            BOOST_TEST(worst_error(dvalue.data(), data.at(prefix + "dvalue"), 3) < 1e-5);
            BOOST_TEST(worst_error(dkey.data(), data.at(prefix + "dkey"), 4) < 1e-5);
            for (std::size_t w = 0, at = 0; w < specs.size(); at += specs[w++].storage())
                BOOST_TEST(
                    worst_error(grads.data() + at, data.at(prefix + "gradient/" + weight_names[w]),
                                specs[w].last()) < 1e-5,
                    weight_names[w]);

            // The same forward through a Model, in both plans.
            auto q = xf::Input<3, 5>{};
            auto v = xf::Input<4, 3>{};
            auto k = xf::Input<4, 4>{};
            const auto x = to_array(data.at("mha_query").values, {2, 3, 5});
            const auto xv = to_array(data.at("mha_value").values, {2, 4, 3});
            const auto xk = to_array(data.at("mha_key").values, {2, 4, 4});
            const auto expected = to_array(data.at(prefix + "output").values, {2, 3, 4});
            if (c.mask) {
                auto m = xf::Input<3, 4>{};
                auto model = xf::Model{xf::inputs(q, v, k, m), layer(q, v, k, m)};
                model.set_weights(weights);
                const auto xm = to_array(mask_values, {2, 3, 4});
                for (const auto& y : {model.predict(xf::fused, x, xv, xk, xm),
                                      model.predict(xf::unfused, x, xv, xk, xm)})
                    BOOST_TEST(xt::amax(xt::abs(y - expected))() < 1e-5);
            } else {
                auto model = xf::Model{xf::inputs(q, v, k), layer(q, v, k)};
                model.set_weights(weights);
                for (const auto& y :
                     {model.predict(xf::fused, x, xv, xk), model.predict(xf::unfused, x, xv, xk)})
                    BOOST_TEST(xt::amax(xt::abs(y - expected))() < 1e-5);
            }
        }
    }
}

// The attention mask's fully masked row (row 1) is uniform, and a masked entry gets exactly 0.
BOOST_AUTO_TEST_CASE(a_fully_masked_row_is_uniform_never_nan) {
    using L = xf::MultiHeadAttention<2, 3, "", 2, 4, true, void>;
    constexpr auto specs = L::weights<Q, Vs, Ks, M>;
    xf::aligned_buffer params(xf::total_storage(specs));
    for (std::size_t i = 0; i < params.size(); ++i)
        params.data()[i] = std::sin(float(i));  // padding lanes too: never reach a result
    xf::aligned_buffer query(Q::storage), value(Vs::storage), key(Ks::storage), mask(M::storage);
    for (std::size_t i = 0; i < Q::storage; ++i)
        query.data()[i] = 10.0f * std::cos(float(i));  // logits far from 0
    std::fill_n(mask.data(), M::storage, 1.0f);
    std::fill_n(mask.data() + M::row_stride, 4, 0.0f);
    mask.data()[2] = 0.0f;
    xf::aligned_buffer scores(2 * 3 * xf::padded(4));
    L{}.scores<Q, Vs, Ks, M>(params.data(), 1,
                             {query.data(), value.data(), key.data(), mask.data()}, scores.data());
    for (std::size_t h = 0; h < 2; ++h) {
        const float* row = scores.data() + (h * 3 + 1) * xf::padded(4);
        for (std::size_t j = 0; j < 4; ++j)
            BOOST_TEST(row[j] == 0.25f);
        BOOST_TEST(scores.data()[h * 3 * xf::padded(4) + 2] == 0.0f);
    }
}

BOOST_AUTO_TEST_CASE(conformance_at_sizes_around_the_simd_width) {
    constexpr std::size_t w = xf::simd_width;
    using xf::shape;
    // Self-attention shapes, then a key of its own; D and the head sizes around the SIMD width.
    check<xf::MultiHeadAttention<2, 3, "", 3, 0, true, void>, shape<3, 5>, shape<3, 5>>({});
    check<xf::MultiHeadAttention<1, w + 1, "", w, 0, true, void>, shape<2, 17>, shape<4, 17>>({});
    check<xf::MultiHeadAttention<3, 2, "", w - 1 + (w == 1), 4, true, void>, shape<3, 5>,
          shape<4, 3>, shape<4, 2 * w + 3>>({});
    // Without biases.
    check<xf::MultiHeadAttention<2, 3, "", 2, 4, false, void>, shape<3, 5>, shape<4, 3>,
          shape<4, 4>>({});
    // Causal, with T > S, T = S and T < S (the first row always attends to key step 0).
    using causal = xf::MultiHeadAttention<2, 3, "", 2, 0, true, void>;
    check<causal, shape<5, 5>, shape<3, 4>>(causal{{.use_causal_mask = true}});
    check<causal, shape<3, w + 1>, shape<3, w + 1>>(causal{{.use_causal_mask = true}});
    check<causal, shape<2, 5>, shape<6, 3>>(causal{{.use_causal_mask = true}});
    // Masks of 0 and 1: with 9 samples of (3, 4) masks, some rows are fully masked.
    using masked = xf::MultiHeadAttention<2, 3, "", 2, 4, true, void>;
    check<masked, shape<3, 5>, shape<4, 3>, shape<4, 4>, shape<3, 4>>({}, true);
    check<masked, shape<3, 5>, shape<4, 3>, shape<4, 4>, shape<3, 4>>(
        masked{{.use_causal_mask = true}}, true);
    check<masked, shape<3, 17>, shape<2, 5>, shape<2, 5>, shape<3, 2>>({}, true);
}

BOOST_AUTO_TEST_CASE(weights_follow_keras) {
    using L = xf::MultiHeadAttention<2, 3, "", 2, 4, true, void>;
    constexpr auto specs = L::weights<Q, Vs, Ks>;
    static_assert(specs.size() == 8);
    const std::vector<std::vector<std::size_t>> shapes{{5, 2, 3}, {2, 3}, {4, 2, 3}, {2, 3},
                                                       {3, 2, 2}, {2, 2}, {2, 2, 4}, {4}};
    for (std::size_t i = 0; i < specs.size(); ++i) {
        BOOST_TEST(specs[i].name == weight_names[i]);
        BOOST_TEST(std::vector<std::size_t>(specs[i].dims.begin(),
                                            specs[i].dims.begin() + specs[i].rank) == shapes[i],
                   weight_names[i]);
        BOOST_TEST((specs[i].init ==
                    (i % 2 == 0 ? xf::initializer::glorot_uniform : xf::initializer::zeros)));
    }
    // Keras' fans of the (D, H, K) kernel: fan_in = D * H, fan_out = D * K.
    BOOST_TEST(xf::detail::fans(specs[0]).first == 10.0);
    BOOST_TEST(xf::detail::fans(specs[0]).second == 15.0);
    constexpr auto no_bias = xf::MultiHeadAttention<2, 3, "", 2, 4, false, void>::weights<Q, Vs>;
    static_assert(no_bias.size() == 4);
    BOOST_TEST(no_bias[3].name == "attention_output/kernel");
    // The acceptance model's layer: 4 D H K + 3 H K + D = 8,416 for D = K = 32, H = 2.
    BOOST_TEST(xf::total_size(xf::MultiHeadAttention<2, 32, "", 32, 0, true, void>::weights<
                              xf::shape<200, 32>, xf::shape<200, 32>>) == 8416u);
}

BOOST_AUTO_TEST_CASE(summary_row) {
    xf::clear_session();
    auto q = xf::Input<6, 8>{};
    auto v = xf::Input<4, 8>{};
    auto y = xf::MultiHeadAttention<2, 8, "mha">{}(q, v);
    auto model = xf::Model{xf::inputs(q, v), y};
    std::ostringstream os;
    model.summary(os);
    // (None, T, O), 4 D H K + 3 H K + D params, both inputs connected.
    BOOST_TEST(os.str().find(" mha (MultiHeadAttention)       (None, 6, 8)         568         "
                             "['input_1[0][0]',") != std::string::npos,
               os.str());
    BOOST_TEST(os.str().find("'input_2[0][0]']") != std::string::npos, os.str());
    BOOST_TEST(model.count_params() == 568u);
}

BOOST_AUTO_TEST_CASE(a_dropout_rate_outside_0_1_is_refused) {
    using L = xf::MultiHeadAttention<2, 3, "", 3, 0, true, void>;
    BOOST_CHECK_THROW(L({.dropout = 1.0f}), std::invalid_argument);
    BOOST_CHECK_THROW(L({.dropout = -0.1f}), std::invalid_argument);
    BOOST_TEST(L({.dropout = 0.5f}).dropout == 0.5f);
}

// In fit, dropout zeroes attention probabilities (the output changes; predict does not), and
// backward sees the same draws: its gradient matches differences of the training forward.
BOOST_AUTO_TEST_CASE(dropout_acts_in_training_only_with_matching_gradients) {
    using L = xf::MultiHeadAttention<2, 3, "", 2, 4, true, void>;
    constexpr auto specs = L::weights<Q, Vs>;
    const L layer{{.dropout = 0.5f}};
    xf::aligned_buffer params(xf::total_storage(specs)), grads(params.size());
    std::size_t at = 0;
    for (const auto& spec : specs) {
        for (std::size_t r = 0; r < spec.rows(); ++r)
            for (std::size_t c = 0; c < spec.last(); ++c)
                params.data()[at + r * spec.row_stride() + c] =
                    0.5f * std::sin(float(at + 3 * r + c));
        at += spec.storage();
    }
    xf::aligned_buffer query(Q::storage), value(Vs::storage), dquery(Q::storage),
        dvalue(Vs::storage), upstream(Out::storage);
    for (std::size_t i = 0; i < Q::storage; ++i)
        query.data()[i] = std::cos(float(i));
    for (std::size_t i = 0; i < Vs::storage; ++i)
        value.data()[i] = std::sin(float(2 * i));
    for (std::size_t i = 0; i < Out::storage; ++i)
        upstream.data()[i] = (i % xf::padded(4)) < 4 ? std::cos(float(5 * i)) : 0.0f;
    const xf::call_context training{.training = true, .seed = 7, .epoch = 1, .layer = 3};
    const auto loss = [&](const xf::call_context& context) {
        xf::aligned_buffer out(Out::storage);
        layer.forward<Q, Vs>(params.data(), 1, {query.data(), value.data()}, out.data(), context);
        double sum = 0;
        for (std::size_t i = 0; i < Out::storage; ++i)
            sum += double(out.data()[i]) * upstream.data()[i];
        return sum;
    };
    BOOST_TEST(loss(training) != loss(xf::call_context{}));
    xf::aligned_buffer out(Out::storage);
    layer.forward<Q, Vs>(params.data(), 1, {query.data(), value.data()}, out.data(), training);
    layer.backward<Q, Vs>(params.data(), grads.data(), 1, {query.data(), value.data()}, out.data(),
                          upstream.data(), {dquery.data(), dvalue.data()}, training);
    // Differences in float with a step of 1e-2: a few percent of truncation error, and a
    // rounding error of a few 1e-6.
    const float step = 1e-2f;
    const auto close = [&](double gradient, double up, double down) {
        const double difference = (up - down) / (2 * step);
        return std::abs(gradient - difference) <= 2e-5 + 0.02 * std::abs(difference);
    };
    BOOST_TEST(std::abs(dquery.data()[0]) + std::abs(dquery.data()[1]) > 1e-3);
    for (std::size_t i = 0; i < 5; ++i) {
        float& x = query.data()[i];
        const float keep = x;
        x = keep + step;
        const double up = loss(training);
        x = keep - step;
        const double down = loss(training);
        x = keep;
        BOOST_TEST(close(dquery.data()[i], up, down));
    }
    for (std::size_t i = 0; i < 3; ++i) {
        float& p = params.data()[i];  // query/kernel
        const float keep = p;
        p = keep + step;
        const double up = loss(training);
        p = keep - step;
        const double down = loss(training);
        p = keep;
        BOOST_TEST(close(grads.data()[i], up, down));
    }
}

// model.get_layer<"mha">().attention_scores(): a sub-model of the probabilities (H, T, S) that
// shares the layer's weights and options (here the causal mask) with the model.
BOOST_AUTO_TEST_CASE(attention_scores_of_a_model_s_layer) {
    xf::clear_session();
    using S = xf::shape<5, 8>;
    auto x = xf::Input<5, 8>{};
    const auto layer = xf::MultiHeadAttention<2, 4, "mha">{{.use_causal_mask = true}};
    auto model = xf::Model{xf::inputs(x), xf::Dense<3>{}(layer(x, x))};
    auto scores = xf::Model{model.inputs(), model.get_layer<"mha">().attention_scores()};
    BOOST_TEST(scores.count_params() == model.get_layer<"mha">().count_params());
    xt::xtensor<float, 3> in = xt::zeros<float>({std::size_t{3}, std::size_t{5}, std::size_t{8}});
    for (std::size_t i = 0; i < in.size(); ++i)
        in.data()[i] = std::sin(float(i));

    // The layer's own scores on the model's weights.
    const auto expected = [&] {
        using L = std::remove_cvref_t<decltype(layer)>;
        constexpr auto specs = L::weights<S, S>;
        const auto w = model.get_layer<"mha">().get_weights();
        xf::aligned_buffer params(xf::total_storage(specs));
        for (std::size_t i = 0, at = 0; i < specs.size(); at += specs[i++].storage()) {
            const auto rows = padded_rows({w[i].begin(), w[i].end()}, specs[i].last());
            std::copy_n(rows.data(), specs[i].storage(), params.data() + at);
        }
        const auto samples = padded_rows({in.begin(), in.end()}, 8);
        xf::aligned_buffer out(3 * 2 * 5 * xf::padded(5));
        layer.scores<S, S>(params.data(), 3, {samples.data(), samples.data()}, out.data());
        return out;
    };
    const auto check = [&](const xf::aligned_buffer& reference) {
        const auto p = scores.predict(in);
        BOOST_TEST((std::vector<std::size_t>(p.shape().begin(), p.shape().end()) ==
                    std::vector<std::size_t>{3, 2, 5, 5}));
        for (std::size_t r = 0; r < 3 * 2 * 5; ++r) {
            double sum = 0;
            for (std::size_t j = 0; j < 5; ++j) {
                const float v = p.data()[r * 5 + j];
                BOOST_TEST(v == reference.data()[r * xf::padded(5) + j]);
                if (j > r % 5)
                    BOOST_TEST(v == 0.0f);  // causal
                sum += v;
            }
            BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-6));
        }
        return p;
    };
    const auto before = check(expected());
    // New weights in the model reach the sub-model.
    auto w = model.get_layer<"mha">().get_weights();
    w[0] *= 3.0f;
    model.get_layer<"mha">().set_weights(w);
    const auto after = check(expected());
    BOOST_TEST(xt::amax(xt::abs(after - before))() > 1e-3);
}
