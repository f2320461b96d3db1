// Every activation through xf::testing::check_layer, in a Dense and as a layer of its own (its
// gradient check takes each activation's derivative against central differences of the
// double-precision reference), and the parts of the backward protocol that check_layer does
// not reach: the logits path of Dense and the tie rule of Maximum and Minimum.
#define BOOST_TEST_MODULE layers_gradients
#include <boost/test/unit_test.hpp>
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>

#include "support/conformance.hpp"

namespace xf = xfuse;

namespace {
constexpr std::size_t w = xf::simd_width;
using reference::check_conformance;

template <class F>
void for_each_activation(F&& f) {
    [&]<auto... A>() {
        (f.template operator()<A>(), ...);
    }
    .template operator()<xf::linear, xf::relu, xf::leaky_relu, xf::sigmoid, xf::tanh, xf::softmax,
                         xf::elu, xf::selu, xf::gelu, xf::softplus, xf::softsign, xf::swish,
                         xf::silu, xf::exponential, xf::hard_sigmoid>();
}
}  // namespace

BOOST_AUTO_TEST_CASE(dense_with_every_activation) {
    for_each_activation([]<auto A>() {
        BOOST_TEST_CONTEXT(decltype(A)::name) {
            check_conformance<xf::Dense<2 * w + 1, A, "", true, void>, xf::shape<w + 1>>();
}
});
}

BOOST_AUTO_TEST_CASE(activation_layer_with_every_activation) {
    for_each_activation([]<auto A>() {
        BOOST_TEST_CONTEXT(decltype(A)::name) {
            check_conformance<xf::Activation<A, "", void>, xf::shape<2, 2 * w + 3>>();
}
});
}

BOOST_AUTO_TEST_CASE(dense_preactivation_gradient_is_the_linear_backward) {
    // backward_preactivation(g) must equal the backward of the same Dense without activation.
    using logits = xf::Dense<2 * w + 1, xf::sigmoid, "", true, void>;
    using linear = xf::Dense<2 * w + 1, xf::linear, "", true, void>;
    using In = xf::shape<w + 1>;
    using Out = linear::output_shape<In>;
    namespace t = xf::testing;
    constexpr std::size_t samples = 9;
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    const std::size_t storage = xf::total_storage(logits::weights<In>);
    const auto param_positions = t::detail::parameter_positions(logits::weights<In>);
    const auto in_positions = t::detail::sample_positions<In>(samples);
    const auto out_positions = t::detail::sample_positions<Out>(samples);
    const auto params = t::detail::padded_buffer(
        t::random_tensor({param_positions.size()}, 3).values, param_positions, storage, 0.0f);
    const auto x = t::detail::padded_buffer(t::random_tensor({in_positions.size()}, 4).values,
                                            in_positions, samples * In::storage, nan);
    const auto g = t::detail::padded_buffer(t::random_tensor({out_positions.size()}, 5).values,
                                            out_positions, samples * Out::storage, nan);
    xf::aligned_buffer grads_a(storage), grads_b(storage), out(samples * Out::storage);
    xf::aligned_buffer dx_a(samples * In::storage), dx_b(samples * In::storage);
    logits::backward_preactivation<In>(params.data(), grads_a.data(), samples, {x.data()}, g.data(),
                                       {dx_a.data()});
    linear::forward<In>(params.data(), samples, {x.data()}, out.data());
    linear::backward<In>(params.data(), grads_b.data(), samples, {x.data()}, out.data(), g.data(),
                         {dx_b.data()});
    for (std::size_t p = 0; p < storage; ++p)
        BOOST_TEST(grads_a.data()[p] == grads_b.data()[p]);
    for (std::size_t p : in_positions)
        BOOST_TEST(dx_a.data()[p] == dx_b.data()[p]);
}

BOOST_AUTO_TEST_CASE(maximum_and_minimum_give_a_tie_to_the_first_input) {
    // tf.maximum's gradient goes to x where x >= y, and Keras folds from the first input.
    alignas(xf::buffer_alignment) float a[xf::simd_width]{}, b[xf::simd_width]{},
        c[xf::simd_width]{}, g[xf::simd_width]{}, out[xf::simd_width]{};
    a[0] = 1, b[0] = 2, c[0] = 2, g[0] = 1;  // max tied between the second and third input
    alignas(xf::buffer_alignment) float da[xf::simd_width]{}, db[xf::simd_width]{},
        dc[xf::simd_width]{};
    using maximum = xf::Maximum<"", void>;
    using S = xf::shape<1>;
    maximum::forward<S, S, S>(nullptr, 1, {a, b, c}, out);
    maximum::backward<S, S, S>(nullptr, nullptr, 1, {a, b, c}, out, g, {da, db, dc});
    BOOST_TEST(da[0] == 0.0f);
    BOOST_TEST(db[0] == 1.0f);
    BOOST_TEST(dc[0] == 0.0f);
    using minimum = xf::Minimum<"", void>;
    minimum::backward<S, S>(nullptr, nullptr, 1, {b, c}, out, g, {db, dc});
    BOOST_TEST(db[0] == 2.0f);
    BOOST_TEST(dc[0] == 0.0f);
}

BOOST_AUTO_TEST_CASE(global_max_pooling_splits_a_tie_equally) {
    // TensorFlow's gradient of reduce_max (tensorflow/python/ops/math_grad.py, _MinOrMaxGrad)
    // divides the gradient among the elements equal to the maximum; tf-keras'
    // GlobalMaxPooling1D is backend.max, that reduce_max.
    using pool = xf::GlobalMaxPooling1D<"", void>;
    using In = xf::shape<3, 2>;
    constexpr std::size_t s = xf::padded(2);
    alignas(xf::buffer_alignment) float x[3 * s]{}, dx[3 * s]{}, out[s]{}, g[s]{};
    // Feature 0: steps 1 and 2 tie at 3; feature 1: all three steps tie at 5.
    x[0] = 1, x[1] = 5, x[s] = 3, x[s + 1] = 5, x[2 * s] = 3, x[2 * s + 1] = 5;
    g[0] = 1, g[1] = 3;
    pool::forward<In>(nullptr, 1, {x}, out);
    BOOST_TEST(out[0] == 3.0f);
    BOOST_TEST(out[1] == 5.0f);
    pool::backward<In>(nullptr, nullptr, 1, {x}, out, g, {dx});
    BOOST_TEST(dx[0] == 0.0f);
    BOOST_TEST(dx[s] == 0.5f);
    BOOST_TEST(dx[2 * s] == 0.5f);
    for (std::size_t t = 0; t < 3; ++t)
        BOOST_TEST(dx[t * s + 1] == 1.0f);
}
