// The fused plan against the plain one: which steps the fusion rules pick (exec/fusion_rules.hpp)
// for the seed model written as a Model, with tagged layers, and for Sequential models, with the
// expectations derived from the target's traits (SIMD width, whether a row of logits fits the
// registers); that the fused plan takes those steps (the buffers they make unnecessary are never
// written); and that both plans compute the same values at sizes around the SIMD width, in
// batches and for single samples, with extreme logits.
#define BOOST_TEST_MODULE exec_fusion
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <tuple>
#include <type_traits>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using xf::detail::step_kind;

namespace {

// The seed model with tagged layers (as template code writes it).
auto tagged_seed() {
    auto input1 = xf::tagged::Input<struct seed_input1, 10>{};
    auto input2 = xf::tagged::Input<struct seed_input2, 20>{};
    auto x1 = xf::tagged::Dense<struct seed_dense1, 32, xf::relu>{}(input1);
    auto x2 = xf::tagged::Dense<struct seed_dense2, 64, xf::relu>{}(input2);
    auto x = xf::tagged::Concatenate<struct seed_joined>{}(x1, x2);
    auto alpha = xf::tagged::Dense<struct seed_attention, 96, xf::softmax, "attention">{}(x);
    auto s = xf::tagged::Dot<struct seed_dot, 1>{}(x, alpha);
    auto output = xf::tagged::Dense<struct seed_out, 1, xf::sigmoid>{}(s);
    return xf::Model{xf::inputs(input1, input2), output};
}

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

using mlp_type = xf::Sequential<xf::Input<10>, xf::Dense<32, xf::relu>, xf::Dense<64, xf::relu>,
                                xf::Dense<1, xf::sigmoid>>;

template <class Model>
constexpr const auto& layout_of(const Model&) {
    return xf::detail::fusion_of<typename Model::graph_type>;
}
template <class Model>
constexpr const auto& layout_of() {
    return xf::detail::fusion_of<typename Model::graph_type>;
}
using tagged_seed_type = decltype(tagged_seed());

// Where the seed's fused attention block is decided by the target: a row of 96 logits in
// registers, and slices that start on register boundaries.
constexpr bool seed_attention_fuses = xf::kernels::attention_fits_registers<96>;
constexpr bool seed_slices_fit = 32 % xf::simd_width == 0;

// The seed model's nodes: input_1, dense, input_2, dense_1, concatenate, attention, dot, dense_2.
template <class Layout>
constexpr bool is_seed_layout(const Layout& layout) {
    bool ok = layout.kind[0] == step_kind::input && layout.kind[2] == step_kind::input;
    // The feature layers write straight into their slices of the Concatenate.
    ok = ok && layout.kind[1] == step_kind::dense && layout.kind[3] == step_kind::dense;
    ok = ok && layout.kind[4] == (seed_slices_fit ? step_kind::elided : step_kind::plain);
    ok = ok && layout.home[1] == (seed_slices_fit ? 4u : 1u) && layout.column[1] == 0;
    ok = ok && layout.home[3] == (seed_slices_fit ? 4u : 3u) &&
         layout.column[3] == (seed_slices_fit ? 32u : 0u);
    // The attention block is found whatever the target; the forward fuses it when a row fits.
    ok = ok && layout.attention[6].found && layout.attention[6].x == 4 &&
         layout.attention[6].weights == 5 && !layout.attention[6].weights_shared;
    // x joins two relu Dense layers' outputs: a row too wide for the registers skips its zeros.
    ok = ok && layout.attention[6].skip_zeros;
    ok = ok && layout.kind[5] == (seed_attention_fuses ? step_kind::attention : step_kind::dense);
    ok = ok && layout.kind[6] == (seed_attention_fuses ? step_kind::absorbed : step_kind::plain);
    ok = ok && (!seed_attention_fuses || layout.pooled[5] == 6);
    // The backward fuses it on every target: only the Dot reads the weights.
    ok = ok && layout.backward_kind[6] == step_kind::attention &&
         layout.backward_kind[5] == step_kind::absorbed;
    for (std::size_t n : {1u, 3u, 4u, 7u})
        ok = ok && layout.backward_kind[n] == step_kind::plain;
    ok = ok && layout.kind[7] == step_kind::dense;
    // The sigmoid output is read by nothing else: the trainer may take its logits.
    for (std::size_t n = 0; n < 8; ++n)
        ok = ok && layout.logits_output[n] == (n == 7);
    // Both inputs are read only by Dense steps: from the caller's rows, not copied.
    return ok && layout.read_in_place[0] && layout.read_in_place[2];
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

// Runs the fused plan on a scratch filled with NaN and returns, per node, whether its buffer
// was written (any float of its first sample changed). Inputs are staged by hand.
template <class Model>
std::vector<bool> written_by_fused_plan(const Model& model) {
    using graph = typename Model::graph_type;
    using plan = xf::fused_plan<graph>;
    using layout = xf::forward_plan<graph>;
    std::vector<float> storage(plan::sample_storage + xf::simd_width);
    float* scratch = storage.data();
    while (reinterpret_cast<std::uintptr_t>(scratch) % (xf::simd_width * sizeof(float)) != 0)
        ++scratch;
    std::fill_n(scratch, plan::sample_storage, std::numeric_limits<float>::quiet_NaN());
    [&]<class... In>(xf::type_list<In...>) {
        (std::fill_n(plan::template buffer<In>(scratch, 1), In::shape_type::storage, 0.5f), ...);
    }(typename graph::inputs{});
    plan::run(model.bindings(), scratch, 1);
    std::vector<bool> written(graph::node_count);
    for (std::size_t n = 0; n < graph::node_count; ++n)
        for (std::size_t i = 0; i < layout::node_storage[n]; ++i)
            written[n] = written[n] || !std::isnan(scratch[layout::offsets[n] + i]);
    return written;
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
    static_assert(xf::detail::fusion_of<typename model_type::graph_type>.kind[1] ==
                  step_kind::dense);
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

// Whether the attention block pooling x (a 32-wide function of `features`) skips x's zeros.
template <class Features, class X>
bool skips_zeros(const Features& features, const X& x) {
    auto weights = xf::tagged::Dense<struct pooling_weights, 32, xf::softmax>{}(x);
    auto model = xf::Model{xf::inputs(features), xf::tagged::Dot<struct pooling, 1>{}(x, weights)};
    using graph = typename decltype(model)::graph_type;
    return xf::detail::fusion_of<graph>.attention[graph::node_count - 1].skip_zeros;
}

BOOST_AUTO_TEST_CASE(seed_model_fuses_attention_and_concatenation) {
    auto model = seed::build();
    static_assert(decltype(model)::graph_type::node_count == 8);
    static_assert(is_seed_layout(layout_of(model)));
    BOOST_TEST_MESSAGE("SIMD width " << xf::simd_width
                                     << ", attention in registers: " << seed_attention_fuses);

    // The notebook's second model ends at the weights: the weights are an output, so there is
    // no block to fuse backward, and the Dense runs register-blocked.
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    static_assert(layout_of(attention).kind[5] == step_kind::dense);
    // With both the prediction and the weights as outputs, the fused pass stores the weights,
    // and the backward keeps the two layers apart (the weights get a gradient of their own).
    auto both = attention_model<32, 64>();
    static_assert(layout_of(both).attention[6].found &&
                  layout_of(both).attention[6].weights_shared);
    static_assert(layout_of(both).kind[5] ==
                  (seed_attention_fuses ? step_kind::attention : step_kind::dense));
    static_assert(layout_of(both).backward_kind[6] == step_kind::plain);
    static_assert(!layout_of(both).logits_output[5]);  // the weights feed the Dot
}

BOOST_AUTO_TEST_CASE(tagged_layers_fuse_as_the_seed_model) {
    static_assert(is_seed_layout(layout_of<tagged_seed_type>()));
}

BOOST_AUTO_TEST_CASE(sequential_positions_keep_their_kind) {
    using graph = mlp_type::graph_type;
    constexpr const auto& layout = xf::detail::fusion_of<graph>;
    static_assert(layout.kind[0] == step_kind::input);
    static_assert(layout.kind[1] == step_kind::dense && layout.kind[2] == step_kind::dense &&
                  layout.kind[3] == step_kind::dense);
    static_assert(layout.read_in_place[0]);
    static_assert(!layout.logits_output[2] && layout.logits_output[3]);
    // The two-input layers (Concatenate, Dot, the merges) cannot stand in a Sequential; a
    // position keeps their kind all the same.
    static_assert(xf::ConcatenateLayer<xf::sequential_slot<1, xf::Concatenate<>>>);
    static_assert(xf::DotLayer<xf::sequential_slot<1, xf::Dot<1>>>);
    static_assert(
        xf::DenseLayerWith<xf::sequential_slot<1, xf::Dense<3, xf::softmax>>, xf::softmax_t>);
    mlp_type mlp;
    const auto x = reference::random_batch(45, 10, 8);
    BOOST_TEST(fused_vs_unfused(mlp, x) <= 1e-5);
}

// A layer of the user's that declares itself Dense-like is fused as a Dense.
struct scaled_dense : xf::layer<scaled_dense>, xf::dense_kind<24, xf::tanh_t, true> {
    static constexpr std::string_view class_name = "ScaledDense";
    static constexpr std::string_view name = "";
    using xf::dense_kind<24, xf::tanh_t, true>::weights;
};

BOOST_AUTO_TEST_CASE(user_layers_that_declare_a_kind_fuse) {
    auto input = xf::Input<12>{};
    auto hidden = scaled_dense{}(input);
    auto model = xf::Model{xf::inputs(input), xf::Dense<1, xf::sigmoid>{}(hidden)};
    static_assert(layout_of(model).kind[1] == step_kind::dense);
    const auto x = reference::random_batch(19, 12, 9);
    BOOST_TEST(fused_vs_unfused(model, x) <= 1e-5);
}

// The fused plan takes the steps the rules name: what they make unnecessary is never written.
BOOST_AUTO_TEST_CASE(fused_plan_skips_what_fusion_makes_unnecessary) {
    const auto check = [](const auto& model) {
        const std::vector<bool> written = written_by_fused_plan(model);
        BOOST_TEST(written[7]);                           // the output
        BOOST_TEST(written[5] == !seed_attention_fuses);  // weights: only the Dot reads
        BOOST_TEST(written[1] == !seed_slices_fit);       // features: in their slices
        BOOST_TEST(written[3] == !seed_slices_fit);
        BOOST_TEST(written[4]);  // the Concatenate, by its slices or its own copy
    };
    check(seed::build());
    check(tagged_seed());
    const std::vector<bool> mlp = written_by_fused_plan(mlp_type{});
    BOOST_TEST((mlp == std::vector<bool>{true, true, true, true}));
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
    constexpr bool fits32 = xf::kernels::attention_fits_registers<32>;
    static_assert(layout_of(attention_on_input).kind[1] ==
                  (fits32 ? step_kind::attention : step_kind::dense));
    static_assert(layout_of(attention_on_input).backward_kind[2] == step_kind::attention);
    static_assert(!layout_of(attention_on_input).read_in_place[0]);  // fused or not, a Dot reads x
    // Only relu output (of a Dense, an Activation layer, or joined) has zeros worth skipping.
    static_assert(!layout_of(attention_on_input).attention[2].skip_zeros);
    BOOST_TEST(skips_zeros(features, xf::Dense<32, xf::relu>{}(features)));
    BOOST_TEST(skips_zeros(features, xf::Activation<xf::relu>{}(features)));
    BOOST_TEST(!skips_zeros(features, xf::Dense<32>{}(features)));
    BOOST_TEST(skips_zeros(features, xf::Concatenate{}(xf::Dense<16, xf::relu>{}(features),
                                                       xf::Dense<16, xf::relu>{}(features))));
    BOOST_TEST(!skips_zeros(features, xf::Concatenate{}(xf::Dense<16, xf::relu>{}(features),
                                                        xf::Dense<16>{}(features))));
    // A normalised Dot is no attention block.
    auto cosine = xf::Dot<1, true>{}(features, xf::Dense<32, xf::softmax>{}(features));
    auto cosine_model = xf::Model{xf::inputs(features), cosine};
    static_assert(!layout_of(cosine_model).attention[2].found);
    // Rows wider than the registers: the softmax Dense is stored, the Dot runs on its own; the
    // backward still fuses the block.
    auto wide = attention_model<200, 200>();
    static_assert(!xf::kernels::attention_fits_registers<400>);
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
    const auto a = reference::random_batch(300, 10, 4);
    const auto b = reference::random_batch(300, 20, 5);
    BOOST_TEST(fused_vs_unfused(seed::build(), a, b) <= 1e-5);
    auto tagged = tagged_seed();
    tagged.set_weights(seed::build().get_weights());
    BOOST_TEST(fused_vs_unfused(tagged, a, b) <= 1e-5);
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
