// The fused plan against the plain one: which steps fusion picks (exec/fusion_rules.hpp), and
// that both plans compute the same values at sizes around the SIMD width, in batches and for
// single samples, with extreme logits.
#define BOOST_TEST_MODULE exec_fusion
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <tuple>
#include <type_traits>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using xf::detail::step_kind;

namespace {

// The seed model's structure with features First + Second wide; both the prediction and the
// attention weights are outputs, so the fused plan must store the weights too.
template <std::size_t First, std::size_t Second>
auto attention_model() {
    auto input1 = xf::tagged::Input<struct input1, 10>{};
    auto input2 = xf::tagged::Input<struct input2, 20>{};
    auto x1 = xf::tagged::Dense<struct dense1, First, xf::relu>{}(input1);
    auto x2 = xf::tagged::Dense<struct dense2, Second, xf::relu>{}(input2);
    auto x = xf::tagged::Concatenate<struct joined>{}(x1, x2);
    auto weights =
        xf::tagged::Dense<struct attention, First + Second, xf::softmax, "attention">{}(x);
    auto pooled = xf::tagged::Dot<struct dot, 1>{}(x, weights);
    auto output = xf::tagged::Dense<struct out, 1, xf::sigmoid>{}(pooled);
    return xf::Model{xf::inputs(input1, input2), output, weights};
}

template <class Model>
constexpr auto layout_of(const Model&) {
    return xf::detail::fuse<typename Model::graph_type>();
}

template <class T>
auto as_tuple(T&& outputs) {
    if constexpr (requires { std::tuple_size<std::remove_cvref_t<T>>::value; })
        return std::forward<T>(outputs);
    else
        return std::tuple{std::forward<T>(outputs)};
}

// max |fused - unfused| over every output of a batch prediction.
template <class Model, class... Batches>
double fused_vs_unfused(const Model& model, const Batches&... batches) {
    const auto fused = as_tuple(model.predict(xf::fused, batches...));
    const auto unfused = as_tuple(model.predict(xf::unfused, batches...));
    double worst = 0;
    std::apply(
        [&](const auto&... f) {
            std::apply(
                [&](const auto&... u) {
                    ((worst = std::max(worst, double(xt::amax(xt::abs(f - u))()))), ...);
                },
                unfused);
        },
        fused);
    return worst;
}

template <std::size_t First, std::size_t Second>
void check_attention_sizes() {
    auto model = attention_model<First, Second>();
    const auto a = reference::random_batch(37, 10, 1);
    const auto b = reference::random_batch(37, 20, 2);
    BOOST_TEST_CONTEXT("features " << First << " + " << Second) {
        BOOST_TEST(fused_vs_unfused(model, a, b) <= 1e-5);
    }
}

template <std::size_t Width, auto Activation>
void check_dense_activation() {
    using model_type = xf::Sequential<xf::tagged::Input<struct in, 9>,
                                      xf::tagged::Dense<struct hidden, Width, Activation>>;
    model_type model;
    const auto x = reference::random_batch(23, 9, 3, 2.0f);
    const auto fused = model.predict(xf::fused, x);
    const auto unfused = model.predict(xf::unfused, x);
    BOOST_TEST_CONTEXT("width " << Width << ", " << decltype(Activation)::name) {
        BOOST_TEST(double(xt::amax(xt::abs(fused - unfused))()) <= 1e-5);
    }
}

// Every width around the SIMD width for the two kinds of activation (element-wise, row-wise);
// the others at four widths (one unit, a partial register, one and a bit, two and a bit), which
// keeps this file's compile time (several seconds per model type) in bounds.
template <auto Activation>
void check_dense_widths() {
    check_dense_activation<1, Activation>();
    check_dense_activation<7, Activation>();
    check_dense_activation<16, Activation>();
    check_dense_activation<17, Activation>();
    check_dense_activation<33, Activation>();
    check_dense_activation<100, Activation>();
}
template <auto Activation>
void check_some_dense_widths() {
    check_dense_activation<1, Activation>();  // one unit: rows packed into one register
    check_dense_activation<7, Activation>();
    check_dense_activation<17, Activation>();
    check_dense_activation<33, Activation>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(seed_model_fuses_attention_and_concatenation) {
    auto model = seed::build();
    constexpr auto layout = layout_of(model);
    using graph = decltype(model)::graph_type;
    static_assert(graph::node_count == 8);
    // Nodes: input_1, dense, input_2, dense_1, concatenate, attention, dot, dense_2.
    static_assert(layout.kind[1] == step_kind::dense && layout.home[1] == 4 &&
                  layout.column[1] == 0);
    static_assert(layout.kind[3] == step_kind::dense && layout.home[3] == 4 &&
                  layout.column[3] == 32);
    static_assert(layout.kind[4] == step_kind::elided);
    static_assert(layout.kind[5] == step_kind::attention && layout.pooled[5] == 6);
    static_assert(!layout.store_weights[5]);  // nothing reads them but the Dot
    static_assert(layout.kind[6] == step_kind::absorbed);
    static_assert(layout.kind[7] == step_kind::dense);
    // Both inputs are read only by Dense steps: from the caller's rows, not copied.
    static_assert(layout.read_in_place[0] && layout.read_in_place[2]);

    // The notebook's second model ends at the weights: a register-blocked Dense whose softmax
    // runs in registers.
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    static_assert(layout_of(attention).kind[5] == step_kind::dense);
    // With both the prediction and the weights as outputs, the fused pass stores the weights.
    auto both = attention_model<32, 64>();
    static_assert(layout_of(both).kind[5] == step_kind::attention);
    static_assert(layout_of(both).store_weights[5]);
}

BOOST_AUTO_TEST_CASE(fusion_declines_what_it_cannot_do_in_place) {
    // A slice that does not start on a register boundary: the Concatenate copies.
    auto unaligned = attention_model<5, 11>();
    static_assert(layout_of(unaligned).kind[4] == step_kind::plain);
    // A Dense read by something besides the Concatenate keeps its own buffer.
    auto input = xf::Input<8>{};
    auto hidden = xf::Dense<16, xf::relu>{}(input);
    auto other = xf::Dense<16>{}(input);
    auto joined = xf::Concatenate{}(hidden, other);
    auto model = xf::Model{xf::inputs(input), joined, hidden};
    static_assert(layout_of(model).kind[3] == step_kind::plain);
    static_assert(layout_of(model).read_in_place[0]);  // two Dense steps read it
    // An input that anything but a Dense step reads (a Concatenate; the attention, whose Dot
    // reads whole registers of x) gets its padded copy.
    auto with_input = xf::Model{xf::inputs(input), xf::Concatenate{}(input, hidden)};
    static_assert(!layout_of(with_input).read_in_place[0]);
    auto features = xf::Input<32>{};
    auto pooled = xf::Dot<1>{}(features, xf::Dense<32, xf::softmax>{}(features));
    auto attention_on_input = xf::Model{xf::inputs(features), pooled};
    static_assert(layout_of(attention_on_input).kind[1] == step_kind::attention);
    static_assert(!layout_of(attention_on_input).read_in_place[0]);
    // Rows wider than the registers: the softmax Dense is stored, the Dot runs on its own.
    auto wide = attention_model<200, 200>();
    static_assert(layout_of(wide).kind[5] == step_kind::dense);
    static_assert(layout_of(wide).kind[6] == step_kind::plain);
}

BOOST_AUTO_TEST_CASE(fused_attention_matches_plain_around_the_simd_width) {
    check_attention_sizes<1, 6>();      // 7: one partial register
    check_attention_sizes<5, 11>();     // 16, concatenation not in place
    check_attention_sizes<16, 16>();    // 32, in place
    check_attention_sizes<7, 10>();     // 17
    check_attention_sizes<16, 17>();    // 33, the last slice ends mid-register
    check_attention_sizes<32, 64>();    // 96, the seed model
    check_attention_sizes<48, 80>();    // 128
    check_attention_sizes<85, 171>();   // 256
    check_attention_sizes<200, 200>();  // 400: not fused, same path both ways
}

BOOST_AUTO_TEST_CASE(fused_dense_matches_plain_for_every_activation) {
    check_dense_widths<xf::relu>();
    check_dense_widths<xf::softmax>();
    check_some_dense_widths<xf::linear>();
    check_some_dense_widths<xf::sigmoid>();
    check_some_dense_widths<xf::tanh>();
    check_some_dense_widths<xf::elu>();
    check_some_dense_widths<xf::selu>();
    check_some_dense_widths<xf::gelu>();
    check_some_dense_widths<xf::softplus>();
    check_some_dense_widths<xf::softsign>();
    check_some_dense_widths<xf::swish>();
    check_some_dense_widths<xf::hard_sigmoid>();
    check_some_dense_widths<xf::leaky_relu>();
    check_some_dense_widths<xf::exponential>();
}

// (tests/model/seed_model.cpp checks the default, fused, predict against a double reference.)
BOOST_AUTO_TEST_CASE(fused_seed_model_matches_plain) {
    auto model = seed::build();
    const auto a = reference::random_batch(300, 10, 4);
    const auto b = reference::random_batch(300, 20, 5);
    BOOST_TEST(fused_vs_unfused(model, a, b) <= 1e-5);
}

BOOST_AUTO_TEST_CASE(single_sample_calls_agree_with_batches) {
    auto model = seed::build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    xt::xtensor_fixed<float, xt::xshape<10>> a;
    xt::xtensor_fixed<float, xt::xshape<20>> b;
    for (std::size_t i = 0; i < 10; ++i)
        a(i) = 0.3f * float(i) - 1.0f;
    for (std::size_t i = 0; i < 20; ++i)
        b(i) = 0.1f * float(i) - 0.7f;
    const auto fused = attention(xf::fused, a, b);
    const auto unfused = attention(xf::unfused, a, b);
    BOOST_TEST(double(xt::amax(xt::abs(fused - unfused))()) <= 1e-6);
    BOOST_TEST(std::abs(model(xf::fused, a, b)(0) - model(xf::unfused, a, b)(0)) <= 1e-6);
}

BOOST_AUTO_TEST_CASE(extreme_logits_stay_finite) {
    auto model = seed::build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    // Scale the attention kernel so that logits reach about +-1000.
    auto weights = model.get_weights();
    weights[4] *= 1000.0f / (xt::amax(xt::abs(weights[4]))() + 1e-6f);
    model.set_weights(weights);
    const auto a = reference::random_batch(40, 10, 6, 3.0f);
    const auto b = reference::random_batch(40, 20, 7, 3.0f);
    const auto fused = attention.predict(xf::fused, a, b);
    BOOST_TEST(xt::all(xt::isfinite(fused)));
    const xt::xtensor<float, 1> sums = xt::sum(fused, {1});
    BOOST_TEST(double(xt::amax(xt::abs(sums - 1.0f))()) <= 1e-5);
    BOOST_TEST(fused_vs_unfused(model, a, b) <= 1e-5);
    BOOST_TEST(xt::all(xt::isfinite(model.predict(a, b))));
}
