// The backward plan on the seed model: the gradient of the loss fit() minimises (binary
// cross-entropy on the sigmoid's logits, mean over the batch) with respect to every weight,
// against the backward formulas written out here and against central finite differences of the
// forward built from support/reference.hpp's layers, both in double; the fused attention
// backward against the unfused one; and the plan's protocol (stale gradient scratch,
// accumulation, the dL/d(output) path).
#define BOOST_TEST_MODULE exec_backward
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>
#include <xfuse/exec/backward.hpp>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;

namespace {

using graph = seed::model_type::graph_type;
using plan = xf::forward_plan<graph>;
using output_node = xf::at_t<0, graph::outputs>;
constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();

// ---- the seed model in double: weights as one flat list in Keras' order ----------------------

using reference::tensor;

struct batch {
    std::size_t size;
    tensor x1, x2;          // (B, 10), (B, 20)
    std::vector<double> y;  // (B)
};

// The offsets of W1, b1, W2, b2, Wa, ba, Wo, bo in the flat list.
constexpr std::array<std::size_t, 9> offsets = [] {
    constexpr std::array<std::size_t, 8> sizes{10 * 32, 32, 20 * 64, 64, 96 * 96, 96, 1, 1};
    std::array<std::size_t, 9> o{};
    for (std::size_t i = 0; i < 8; ++i)
        o[i + 1] = o[i] + sizes[i];
    return o;
}();
enum weight { W1, b1, W2, b2, Wa, ba, Wo, bo };

struct activations {
    std::vector<double> h1, h2, c, al, s, z;
};

// Weight w of the flat list, as a tensor of the given shape.
tensor weight_tensor(const std::vector<double>& p, weight w, std::vector<std::size_t> shape) {
    return {std::move(shape), std::vector<double>(p.begin() + std::ptrdiff_t(offsets[w]),
                                                  p.begin() + std::ptrdiff_t(offsets[w + 1]))};
}

// The notebook's forward pass, layer by layer, each layer's reference in double.
activations forward(const std::vector<double>& p, const batch& data) {
    using namespace reference;
    const auto affine = [&](const tensor& x, weight w, weight b, std::size_t in, std::size_t out) {
        const tensor bias = weight_tensor(p, b, {out});
        return dense<xfuse::linear_t>(x, weight_tensor(p, w, {in, out}), &bias);
    };
    const tensor h1 = affine(data.x1, W1, b1, 10, 32);
    const tensor h2 = affine(data.x2, W2, b2, 20, 64);
    const tensor c =
        concatenate({activation<xfuse::relu_t>(h1), activation<xfuse::relu_t>(h2)}, -1);
    const tensor al = activation<xfuse::softmax_t>(affine(c, Wa, ba, 96, 96));
    const tensor s = dot(c, al, 1, false);
    const tensor z = affine(s, Wo, bo, 1, 1);
    return {h1.values, h2.values, c.values, al.values, s.values, z.values};
}

// mean(max(z, 0) - z y + log1p(exp(-|z|))): what fit() minimises.
double loss(const std::vector<double>& p, const batch& data) {
    const activations a = forward(p, data);
    double sum = 0;
    for (std::size_t b = 0; b < data.size; ++b)
        sum += std::max(a.z[b], 0.0) - a.z[b] * data.y[b] + std::log1p(std::exp(-std::abs(a.z[b])));
    return sum / double(data.size);
}

// dL/dp[i] by central differences; h^2 truncation and 1e-16 / h rounding: ~1e-10.
double finite_difference(std::vector<double>& p, std::size_t i, const batch& data) {
    const double h = 1e-6, saved = p[i];
    p[i] = saved + h;
    const double plus = loss(p, data);
    p[i] = saved - h;
    const double minus = loss(p, data);
    p[i] = saved;
    return (plus - minus) / (2 * h);
}

// The backward formulas, line by line.
std::vector<double> formula_gradient(const std::vector<double>& p, const batch& data) {
    const activations a = forward(p, data);
    const std::size_t n = data.size;
    std::vector<double> g(offsets.back(), 0.0);
    const auto at = [&](weight w) { return p.data() + offsets[w]; };
    const auto grad = [&](weight w) { return g.data() + offsets[w]; };
    for (std::size_t b = 0; b < n; ++b) {
        const double dz = (1 / (1 + std::exp(-a.z[b])) - data.y[b]) / double(n);
        grad(Wo)[0] += a.s[b] * dz;
        grad(bo)[0] += dz;
        const double ds = dz * at(Wo)[0];
        const double* c = &a.c[b * 96];
        const double* al = &a.al[b * 96];
        std::array<double, 96> dc, dal, da;
        double dot = 0;
        for (std::size_t j = 0; j < 96; ++j) {
            dc[j] = ds * al[j];
            dal[j] = ds * c[j];
            dot += dal[j] * al[j];
        }
        for (std::size_t j = 0; j < 96; ++j)
            da[j] = al[j] * (dal[j] - dot);
        for (std::size_t i = 0; i < 96; ++i)
            for (std::size_t j = 0; j < 96; ++j) {
                grad(Wa)[i * 96 + j] += c[i] * da[j];
                dc[i] += da[j] * at(Wa)[i * 96 + j];
            }
        for (std::size_t j = 0; j < 96; ++j)
            grad(ba)[j] += da[j];
        for (std::size_t j = 0; j < 32; ++j) {
            const double dh = a.h1[b * 32 + j] > 0 ? dc[j] : 0.0;
            for (std::size_t i = 0; i < 10; ++i)
                grad(W1)[i * 32 + j] += data.x1.values[b * 10 + i] * dh;
            grad(b1)[j] += dh;
        }
        for (std::size_t j = 0; j < 64; ++j) {
            const double dh = a.h2[b * 64 + j] > 0 ? dc[32 + j] : 0.0;
            for (std::size_t i = 0; i < 20; ++i)
                grad(W2)[i * 64 + j] += data.x2.values[b * 20 + i] * dh;
            grad(b2)[j] += dh;
        }
    }
    return g;
}

// ---- the plan -------------------------------------------------------------------------------

batch random_seed_batch(std::size_t n, unsigned seed) {
    const std::normal_distribution<float> normal(0.0f, 1.0f);
    batch data{n, xf::testing::random_tensor({n, 10}, seed, normal),
               xf::testing::random_tensor({n, 20}, seed + 1, normal), std::vector<double>(n)};
    for (std::size_t b = 0; b < n; ++b)
        data.y[b] = double(b % 2);
    return data;
}

// Random weights, including the biases, large enough that the attention is far from uniform.
template <class Model>
std::vector<double> randomize(Model& model, unsigned seed) {
    auto weights = model.get_weights();
    std::size_t count = 0;
    for (const auto& w : weights)
        count += w.size();
    const std::vector<double> flat =
        xf::testing::random_tensor({count}, seed,
                                   std::uniform_real_distribution<float>(-0.5f, 0.5f))
            .values;
    auto next = flat.begin();
    for (auto& w : weights)
        for (float& v : w)
            v = static_cast<float>(*next++);
    model.set_weights(weights);
    return flat;
}

// One aligned buffer holding every layer's gradients, laid out like the parameters.
template <class Graph = graph>
struct layer_gradients {
    xf::aligned_buffer storage;
    std::array<float*, Graph::layer_count> layers{};
    layer_gradients() {
        constexpr auto sizes = []<std::size_t... L>(std::index_sequence<L...>) {
            return std::array<std::size_t, Graph::layer_count>{
                Graph::template storage_of_layer<L>...};
        }
        (std::make_index_sequence<Graph::layer_count>{});
        std::size_t total = 0;
        for (std::size_t s : sizes)
            total += s;
        storage = xf::aligned_buffer(total);
        float* next = storage.data();
        for (std::size_t l = 0; l < sizes.size(); ++l) {
            layers[l] = next;
            next += sizes[l];
        }
    }
    // In Keras' order, as one flat list like the formulas'.
    std::vector<double> flat() const {
        std::vector<double> result;
        for (const auto& w : xf::detail::get_weights<Graph>(layers))
            result.insert(result.end(), w.begin(), w.end());
        return result;
    }
};
using gradients = layer_gradients<>;

// Runs the forward plan on the batch and the backward plan from the logits-path gradient
// dL/dz = (sigmoid(z) - y) / B, adding into `grads`. Gradient scratch starts as NaN garbage:
// the plan must zero what it accumulates into.
template <class Fusion, xf::output_gradient Gradient = xf::output_gradient::logits>
void train_step_gradients(const seed::model_type& model, const batch& data, gradients& grads) {
    const std::size_t n = data.size;
    xf::aligned_buffer scratch(n * plan::sample_storage), grad_scratch(n * plan::sample_storage);
    std::fill_n(grad_scratch.data(), grad_scratch.size(), not_a_number);
    using input1 = xf::at_t<0, graph::inputs>;
    using input2 = xf::at_t<1, graph::inputs>;
    float* x1 = plan::buffer<input1>(scratch.data(), n);
    float* x2 = plan::buffer<input2>(scratch.data(), n);
    for (std::size_t b = 0; b < n; ++b) {
        std::copy_n(data.x1.values.begin() + b * 10, 10, x1 + b * input1::shape_type::storage);
        std::copy_n(data.x2.values.begin() + b * 20, 20, x2 + b * input2::shape_type::storage);
    }
    plan::run(model.bindings(), scratch.data(), n);
    const float* p = plan::buffer<output_node>(scratch.data(), n);
    float* g = plan::buffer<output_node>(grad_scratch.data(), n);
    for (std::size_t b = 0; b < n; ++b) {
        const double sigmoid = p[b * output_node::shape_type::storage];
        const double dz = (sigmoid - data.y[b]) / double(n);
        // The same gradient through the sigmoid's output: dL/dp = dL/dz / (p (1 - p)).
        g[b * output_node::shape_type::storage] = static_cast<float>(
            Gradient == xf::output_gradient::logits ? dz : dz / (sigmoid * (1 - sigmoid)));
    }
    xf::backward_plan<graph, Fusion, Gradient>::run(model.bindings(), grads.layers, scratch.data(),
                                                    grad_scratch.data(), n);
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    BOOST_TEST_REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]) / (1e-3 + std::abs(b[i])));
    return worst;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_formulas_match_finite_differences) {
    // Validates the double reference itself, so that the plan is compared with the right thing.
    auto model = seed::build();
    const std::vector<double> p = randomize(model, 1);
    const batch data = random_seed_batch(5, 2);
    const std::vector<double> analytic = formula_gradient(p, data);
    std::vector<double> q = p;
    double worst = 0;
    for (std::size_t i = 0; i < q.size(); ++i)
        worst = std::max(worst, std::abs(finite_difference(q, i, data) - analytic[i]));
    BOOST_TEST(worst <= 1e-8);
}

BOOST_AUTO_TEST_CASE(seed_model_gradient_matches_the_formulas) {
    // Batch sizes around the backward tile (4 rows) and one of Keras' default 32.
    for (std::size_t n : {1u, 3u, 4u, 7u, 32u}) {
        BOOST_TEST_CONTEXT("batch of " << n) {
            auto model = seed::build();
            const std::vector<double> p = randomize(model, unsigned(n));
            const batch data = random_seed_batch(n, unsigned(n) + 100);
            const std::vector<double> expected = formula_gradient(p, data);
            gradients fused, unfused;
            train_step_gradients<xf::fused_t>(model, data, fused);
            train_step_gradients<xf::unfused_t>(model, data, unfused);
            // Float sums of at most 96 * 32 terms against double: at most 4.3e-6 of
            // (1e-3 + |g|) measured; 4e-5 leaves a factor of 10, and a wrong term would be
            // O(1) relative.
            const double fused_error = max_relative_difference(fused.flat(), expected);
            const double unfused_error = max_relative_difference(unfused.flat(), expected);
            BOOST_TEST_MESSAGE("relative error fused " << fused_error << ", unfused "
                                                       << unfused_error);
            BOOST_TEST(fused_error <= 4e-5);
            BOOST_TEST(unfused_error <= 4e-5);
            const std::vector<double> a = fused.flat(), b = unfused.flat();
            for (std::size_t i = 0; i < a.size(); ++i)
                BOOST_TEST(std::abs(a[i] - b[i]) <= 1e-5 * (1 + std::abs(b[i])), "weight " << i);
        }
    }
}

BOOST_AUTO_TEST_CASE(plan_gradient_matches_finite_differences) {
    auto model = seed::build();
    const std::vector<double> p = randomize(model, 7);
    const batch data = random_seed_batch(6, 8);
    gradients grads;
    train_step_gradients<xf::fused_t>(model, data, grads);
    const std::vector<double> actual = grads.flat();
    std::vector<double> q = p;
    for (std::size_t i = 0; i < q.size(); ++i) {
        const double numeric = finite_difference(q, i, data);
        BOOST_TEST(std::abs(actual[i] - numeric) <= 1e-5 * (1e-2 + std::abs(numeric)),
                   "weight " << i << ": plan " << actual[i] << ", finite difference " << numeric);
    }
}

BOOST_AUTO_TEST_CASE(gradients_accumulate_and_the_output_path_agrees) {
    auto model = seed::build();
    randomize(model, 11);
    const batch data = random_seed_batch(9, 12);
    gradients once, twice, through_output;
    train_step_gradients<xf::fused_t>(model, data, once);
    train_step_gradients<xf::fused_t>(model, data, twice);
    train_step_gradients<xf::fused_t>(model, data, twice);
    // dL/dp written for the sigmoid's output, taken back through its derivative.
    train_step_gradients<xf::fused_t, xf::output_gradient::activation>(model, data, through_output);
    const std::vector<double> a = once.flat(), b = twice.flat(), c = through_output.flat();
    for (std::size_t i = 0; i < a.size(); ++i) {
        // Not exactly 2a: the second step's tiles are added to a running sum, not to zero.
        BOOST_TEST(std::abs(b[i] - 2 * a[i]) <= 1e-5 * (1e-2 + std::abs(a[i])), "weight " << i);
        BOOST_TEST(std::abs(c[i] - a[i]) <= 1e-5 * (1e-2 + std::abs(a[i])), "weight " << i);
    }
}

namespace {

// Gradients of L = sum c * logits for random inputs and a fixed random c, with one plan.
template <class Fusion, class Model>
std::vector<double> random_gradients(const Model& model, std::size_t n) {
    using g = typename Model::graph_type;
    using p = xf::forward_plan<g>;
    xf::aligned_buffer scratch(n * p::sample_storage), grad_scratch(n * p::sample_storage);
    // Random values in every lane, padding included, as the plan's buffers may hold.
    unsigned seed = 5;
    const auto fill = [&](float* buffer, std::size_t count) {
        const std::vector<double> values =
            xf::testing::random_tensor({count}, seed++, std::normal_distribution<float>(0.0f, 1.0f))
                .values;
        std::copy(values.begin(), values.end(), buffer);
    };
    [&]<class... In>(xf::type_list<In...>) {
        (fill(p::template buffer<In>(scratch.data(), n), n * In::shape_type::storage), ...);
    }(typename g::inputs{});
    p::run(model.bindings(), scratch.data(), n);
    using out = xf::at_t<0, typename g::outputs>;
    fill(p::template buffer<out>(grad_scratch.data(), n), n * out::shape_type::storage);
    layer_gradients<g> grads;
    xf::backward_plan<g, Fusion, xf::output_gradient::logits>::run(
        model.bindings(), grads.layers, scratch.data(), grad_scratch.data(), n);
    return grads.flat();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_seed_model_has_a_fused_attention_block) {
    using dot_node = xf::at_t<0, output_node::inputs>;
    constexpr const auto& rules = xf::detail::fusion_of<graph>;
    constexpr auto block = rules.attention[graph::node_index<dot_node>];
    static_assert(block.fused_backward());
    static_assert(rules.backward_kind[graph::node_index<dot_node>] ==
                  xf::detail::step_kind::attention);
    static_assert(rules.backward_kind[block.weights] == xf::detail::step_kind::absorbed);
    using weights_node = graph::node_t<block.weights>;
    BOOST_TEST(graph::names[graph::layer_index<weights_node::layer_type>].view() == "attention");
}

BOOST_AUTO_TEST_CASE(fusion_only_where_the_pattern_holds) {
    // x is not a model input (its gradient is needed) and feeds five layers; the first block
    // has its operands the other way round (still fused); the second block's attention
    // weights also feed an Add, so its Dense must get their whole gradient (not fused).
    auto in = xf::Input<7>{};
    auto x = xf::Dense<33, xf::tanh>{}(in);
    auto first = xf::Dot<1>{}(xf::Dense<33, xf::softmax>{}(x), x);
    auto weights = xf::Dense<33, xf::softmax>{}(x);
    auto second = xf::Dot<-1>{}(x, weights);
    auto mixed = xf::Dense<3>{}(xf::Add{}(weights, x));
    auto out = xf::Dense<1, xf::sigmoid>{}(xf::Concatenate{}(first, second, mixed));
    auto model = xf::Model{xf::inputs(in), out};
    randomize(model, 3);
    using g = decltype(model)::graph_type;
    constexpr const auto& rules = xf::detail::fusion_of<g>;
    static_assert(rules.attention[g::node_index<decltype(first)>].fused_backward());
    static_assert(rules.attention[g::node_index<decltype(second)>].found);
    static_assert(!rules.attention[g::node_index<decltype(second)>].fused_backward());

    for (std::size_t n : {1u, 5u, 16u}) {
        const std::vector<double> a = random_gradients<xf::fused_t>(model, n);
        const std::vector<double> b = random_gradients<xf::unfused_t>(model, n);
        for (std::size_t i = 0; i < a.size(); ++i)
            BOOST_TEST(std::abs(a[i] - b[i]) <= 1e-5 * (1 + std::abs(b[i])), "weight " << i);
    }
}
