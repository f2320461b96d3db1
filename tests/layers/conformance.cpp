// One conformance check applied to every built-in layer: a model made of the layer alone is run
// on random data at sizes around the SIMD width, and its batch output and its single-sample
// output are compared with a double-precision reference computed here with plain loops.
#define BOOST_TEST_MODULE layers_conformance
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <xfuse/xfuse.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>

#include "support/reference.hpp"

// Layers written inside templates carry explicit tags (layers/tagged.hpp: g++ 12 cannot
// substitute the default identity tag there).
namespace xt_ = xfuse::tagged;

namespace xf = xfuse;

namespace {

using darray = xt::xarray<double>;
constexpr std::size_t samples = 5;
constexpr std::array<std::size_t, 10> sizes{1, 7, 8, 15, 16, 17, 31, 33, 96, 100};

template <class S>
xt::xarray<float> random_input(unsigned seed) {
    std::vector<std::size_t> shape{samples};
    shape.insert(shape.end(), S::dims.begin(), S::dims.end());
    std::mt19937 engine(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    xt::xarray<float> x(shape);
    for (float& v : x)
        v = normal(engine);
    return x;
}

// Runs a model on random batches of its inputs' shapes and compares with expected_of(inputs in
// double); then checks that the single-sample call reproduces every row of the batch exactly.
template <class Model, class Reference>
void check(Model& model, Reference&& expected_of, double tolerance = 2e-5) {
    [&]<class... In>(xf::type_list<In...>) {
        const std::tuple inputs{
            random_input<typename In::shape_type>(1 + xf::index_of_v<xf::type_list<In...>, In>)...};
        const auto out = std::apply([&](const auto&... x) { return model.predict(x...); }, inputs);
        const darray expected = std::apply(
            [&](const auto&... x) { return expected_of(darray(xt::cast<double>(x))...); }, inputs);
        BOOST_REQUIRE(std::equal(out.shape().begin(), out.shape().end(), expected.shape().begin(),
                                 expected.shape().end()));
        const double error = xt::amax(xt::abs(xt::cast<double>(out) - expected))();
        BOOST_TEST(error <= tolerance);

        for (std::size_t s = 0; s < samples; ++s) {
            const auto one = std::apply(
                [&](const auto&... x) {
                    return model(
                        xf::detail::fixed_sample_t<typename In::shape_type>(xt::view(x, s))...);
                },
                inputs);
            BOOST_TEST(xt::xarray<float>(one) == xt::xarray<float>(xt::view(out, s)));
        }
    }(typename Model::graph_type::inputs{});
}

// Random non-zero weights (biases included) so every term of a layer is exercised.
template <class Model>
void randomize_weights(Model& model, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
    auto weights = model.get_weights();
    for (auto& w : weights)
        for (float& v : w)
            v = uniform(engine);
    model.set_weights(weights);
}

// y = act(x W + b) over the last axis, in double.
template <class Activation>
darray dense_reference(const darray& x, const xt::xarray<float>& kernel,
                       const xt::xarray<float>* bias, Activation act) {
    const std::size_t in = kernel.shape()[0], out = kernel.shape()[1];
    std::vector<std::size_t> shape(x.shape().begin(), x.shape().end());
    shape.back() = out;
    darray y(shape);
    const std::size_t rows = x.size() / in;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<double> row(out);
        for (std::size_t j = 0; j < out; ++j) {
            double sum = bias ? double((*bias)(j)) : 0.0;
            for (std::size_t i = 0; i < in; ++i)
                sum += x.data()[r * in + i] * double(kernel(i, j));
            row[j] = sum;
        }
        act(row);
        std::copy(row.begin(), row.end(), y.data() + r * out);
    }
    return y;
}

void linear_rows(std::vector<double>&) {}
void relu_rows(std::vector<double>& row) {
    for (double& v : row)
        v = std::max(v, 0.0);
}
void sigmoid_rows(std::vector<double>& row) {
    for (double& v : row)
        v = 1.0 / (1.0 + std::exp(-v));
}

}  // namespace

BOOST_AUTO_TEST_CASE(dense_at_sizes_around_the_simd_width) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t In, std::size_t Out>() {
            auto input = xt_::Input<struct in, In>{};
            auto relu_model =
                xf::Model{xf::inputs(input), xt_::Dense<struct d1, Out, xf::relu>{}(input)};
            randomize_weights(relu_model, In);
            const auto w = relu_model.get_weights();
            check(relu_model,
                  [&](const darray& x) { return dense_reference(x, w[0], &w[1], relu_rows); });

            auto softmax_model =
                xf::Model{xf::inputs(input), xt_::Dense<struct d2, Out, xf::softmax>{}(input)};
            randomize_weights(softmax_model, Out);
            const auto ws = softmax_model.get_weights();
            check(softmax_model, [&](const darray& x) {
                return dense_reference(x, ws[0], &ws[1], reference::softmax_row);
            });

            // Sigmoid: one unit takes the packed path (kernels::packs_single_unit).
            auto sigmoid_model =
                xf::Model{xf::inputs(input), xt_::Dense<struct d4, Out, xf::sigmoid>{}(input)};
            randomize_weights(sigmoid_model, In + 2 * Out);
            const auto wg = sigmoid_model.get_weights();
            check(sigmoid_model,
                  [&](const darray& x) { return dense_reference(x, wg[0], &wg[1], sigmoid_rows); });

            auto no_bias = xf::Model{xf::inputs(input),
                                     xt_::Dense<struct d3, Out, xf::linear, "", false>{}(input)};
            randomize_weights(no_bias, In + Out);
            const auto wn = no_bias.get_weights();
            BOOST_TEST(wn.size() == 1u);
            check(no_bias,
                  [&](const darray& x) { return dense_reference(x, wn[0], nullptr, linear_rows); });
        };
        (one_size.template operator()<sizes[I], sizes[(I + 1) % sizes.size()]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});
}

BOOST_AUTO_TEST_CASE(dense_on_sequences_acts_on_the_last_axis) {
    auto input = xf::Input<5, 17>{};
    auto model = xf::Model{xf::inputs(input), xf::Dense<9, xf::relu>{}(input)};
    randomize_weights(model, 3);
    const auto w = model.get_weights();
    check(model, [&](const darray& x) { return dense_reference(x, w[0], &w[1], relu_rows); });
}

BOOST_AUTO_TEST_CASE(activation_layer) {
    auto input = xf::Input<3, 33>{};
    auto model = xf::Model{xf::inputs(input), xf::Activation<xf::tanh>{}(input)};
    check(
        model, [](const darray& x) { return darray(xt::tanh(x)); }, 1e-6);
}

BOOST_AUTO_TEST_CASE(concatenate_last_and_outer_axes) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t A, std::size_t B>() {
            auto a = xt_::Input<struct ia, A>{};
            auto b = xt_::Input<struct ib, B>{};
            auto model = xf::Model{xf::inputs(a, b), xt_::Concatenate<struct cat>{}(a, b)};
            check(
                model,
                [](const darray& x, const darray& y) {
                    return darray(xt::concatenate(xt::xtuple(x, y), 1));
                },
                0.0);
        };
        (one_size.template operator()<sizes[I], sizes[(I + 3) % sizes.size()]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});

    auto s1 = xf::Input<3, 17>{};
    auto s2 = xf::Input<2, 17>{};
    auto s3 = xf::Input<3, 5>{};
    auto by_steps = xf::Model{xf::inputs(s1, s2), xf::Concatenate<1>{}(s1, s2)};
    check(
        by_steps,
        [](const darray& x, const darray& y) {
            return darray(xt::concatenate(xt::xtuple(x, y), 1));
        },
        0.0);
    auto by_features = xf::Model{xf::inputs(s1, s3), xf::Concatenate<-1>{}(s1, s3)};
    check(
        by_features,
        [](const darray& x, const darray& y) {
            return darray(xt::concatenate(xt::xtuple(x, y), 2));
        },
        0.0);
}

namespace {
// Keras' batch_dot along sample axis `axis` (0-based, batch excluded), optional L2 normalisation.
darray dot_reference(darray x, darray y, std::size_t axis, bool normalize) {
    auto normalized = [&](darray v) {
        if (!normalize)
            return v;
        darray norm = xt::sqrt(xt::maximum(xt::sum(v * v, {axis + 1}, xt::keep_dims), 1e-12));
        return darray(v / norm);
    };
    x = normalized(x);
    y = normalized(y);
    if (x.dimension() == 2)
        return darray(xt::sum(x * y, {1}, xt::keep_dims));
    const std::size_t n = x.shape()[0];
    const std::size_t other = 1 - axis;
    auto out = darray::from_shape({n, x.shape()[other + 1], y.shape()[other + 1]});
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < out.shape()[1]; ++i)
            for (std::size_t j = 0; j < out.shape()[2]; ++j) {
                double sum = 0;
                for (std::size_t k = 0; k < x.shape()[axis + 1]; ++k)
                    sum += axis == 1 ? x(b, i, k) * y(b, j, k) : x(b, k, i) * y(b, k, j);
                out(b, i, j) = sum;
            }
    return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(dot_of_vectors_and_sequences) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t N>() {
            auto a = xt_::Input<struct ia, N>{};
            auto b = xt_::Input<struct ib, N>{};
            auto plain = xf::Model{xf::inputs(a, b), xt_::Dot<struct dot, 1>{}(a, b)};
            check(
                plain,
                [](const darray& x, const darray& y) { return dot_reference(x, y, 0, false); },
                1e-4);
            auto cosine = xf::Model{xf::inputs(a, b), xt_::Dot<struct cos, -1, true>{}(a, b)};
            check(
                cosine,
                [](const darray& x, const darray& y) { return dot_reference(x, y, 0, true); },
                1e-5);
        };
        (one_size.template operator()<sizes[I]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});

    auto q = xf::Input<4, 17>{};
    auto k = xf::Input<6, 17>{};
    auto scores = xf::Model{xf::inputs(q, k), xf::Dot<2>{}(q, k)};  // (4, 6)
    check(
        scores, [](const darray& x, const darray& y) { return dot_reference(x, y, 1, false); },
        1e-4);
    auto u = xf::Input<4, 9>{};
    auto v = xf::Input<4, 3>{};
    auto over_steps = xf::Model{xf::inputs(u, v), xf::Dot<1, true>{}(u, v)};  // (9, 3)
    check(
        over_steps, [](const darray& x, const darray& y) { return dot_reference(x, y, 0, true); },
        1e-5);
}

BOOST_AUTO_TEST_CASE(merge_layers) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t N>() {
            auto a = xt_::Input<struct ia, N>{};
            auto b = xt_::Input<struct ib, N>{};
            auto c = xt_::Input<struct ic, N>{};
            auto add = xf::Model{xf::inputs(a, b, c), xt_::Add<struct add>{}(a, b, c)};
            check(add, [](const darray& x, const darray& y, const darray& z) {
                return darray(x + y + z);
            });
            auto subtract = xf::Model{xf::inputs(a, b), xt_::Subtract<struct sub>{}(a, b)};
            check(subtract, [](const darray& x, const darray& y) { return darray(x - y); });
            auto multiply = xf::Model{xf::inputs(a, b, c), xt_::Multiply<struct mul>{}(a, b, c)};
            check(multiply, [](const darray& x, const darray& y, const darray& z) {
                return darray(x * y * z);
            });
            auto average = xf::Model{xf::inputs(a, b, c), xt_::Average<struct avg>{}(a, b, c)};
            check(average, [](const darray& x, const darray& y, const darray& z) {
                return darray((x + y + z) / 3.0);
            });
            auto maximum = xf::Model{xf::inputs(a, b, c), xt_::Maximum<struct max>{}(a, b, c)};
            check(
                maximum,
                [](const darray& x, const darray& y, const darray& z) {
                    return darray(xt::maximum(xt::maximum(x, y), z));
                },
                0.0);
            auto minimum = xf::Model{xf::inputs(a, b), xt_::Minimum<struct min>{}(a, b)};
            check(
                minimum, [](const darray& x, const darray& y) { return darray(xt::minimum(x, y)); },
                0.0);
        };
        (one_size.template operator()<sizes[I]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});
}
