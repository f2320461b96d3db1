// One gradient check applied to every layer type and every activation (dlib's test_layer):
// the layer's float backward against central finite differences, in double precision, of a
// random linear functional L = sum c * output, with respect to every input element and every
// parameter, at sizes around the SIMD width (1, 7, 15, 16, 17, 33).
//
// The differences are taken of a double-precision forward written here for each layer family
// (plain loops over the same padded layout, sharing no code with the kernels except the
// activations' apply<double>, whose values tests/kernels/activations.cpp checks against std::
// formulas). Before differencing, the check confirms that this reference agrees with the
// layer's own float forward, so the gradient is that of the function the layer computes.
//
// It also checks the protocol: gradients are ADDED to what input_grads and param_grads hold,
// an input gradient may be nullptr (and the parameter gradients do not change then), padding
// lanes of the parameter gradients stay 0, and NaN in the padding lanes of the inputs and of
// the output gradient never reaches a logical lane.
#define BOOST_TEST_MODULE layers_gradients
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"

namespace xf = xfuse;

namespace {

using dvec = std::vector<double>;
constexpr std::size_t samples = 9;  // a full tile of the Dense backward (8 rows) and a partial one
constexpr std::array<std::size_t, 6> sizes{1, 7, 15, 16, 17, 33};
constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();

// Double central differences with h = 1e-6 have truncation error ~h^2 |f'''| ~ 1e-12 and
// rounding error ~1e-16 |L| / h ~ 1e-10, so what is measured is the float backward's error:
// sums of at most ~100 float products of O(1) terms, each rounding ~6e-8 relative, typically
// ~sqrt(100) * 6e-8 * (1 + |g|). The worst case seen is 2.1e-6 (1 + |g|); 2e-5 leaves a factor
// of 10 and is still far below what one wrong or missing term makes (O(1e-2) or more).
constexpr double step = 1e-6;
constexpr double tolerance = 2e-5;

// Offsets of the logical floats of `samples` samples of S in the padded layout.
template <xf::Shape S>
std::vector<std::size_t> logical_positions(std::size_t count = samples) {
    std::vector<std::size_t> positions;
    for (std::size_t s = 0; s < count; ++s)
        for (std::size_t r = 0; r < S::rows; ++r)
            for (std::size_t c = 0; c < S::last; ++c)
                positions.push_back(s * S::storage + r * S::row_stride + c);
    return positions;
}

template <std::size_t K>
std::vector<std::size_t> parameter_positions(const std::array<xf::weight_spec, K>& specs) {
    std::vector<std::size_t> positions;
    std::size_t offset = 0;
    for (const xf::weight_spec& w : specs) {
        for (std::size_t r = 0; r < w.rows(); ++r)
            for (std::size_t c = 0; c < w.last(); ++c)
                positions.push_back(offset + r * w.row_stride() + c);
        offset += w.storage();
    }
    return positions;
}

// A float buffer in the padded layout: `value` at the logical positions, `padding` elsewhere.
xf::aligned_buffer to_float(const dvec& values, const std::vector<std::size_t>& logical,
                            float padding) {
    xf::aligned_buffer buffer(values.size());
    std::fill_n(buffer.data(), buffer.size(), padding);
    for (std::size_t p : logical)
        buffer.data()[p] = static_cast<float>(values[p]);
    return buffer;
}

dvec random_values(std::size_t size, const std::vector<std::size_t>& logical, unsigned seed,
                   double low, double high) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<double> uniform(low, high);
    dvec values(size, 0.0);
    for (std::size_t p : logical)
        values[p] = static_cast<float>(uniform(engine));  // exactly representable in float
    return values;
}

// The generic check. reference(params, inputs, samples) returns the output in the padded
// layout, in double; its padding lanes are ignored.
template <class Layer, xf::Shape... In, class Reference>
void check_gradients(Reference reference, unsigned seed = 1) {
    constexpr std::size_t k = sizeof...(In);
    using Out = typename Layer::template output_shape<In...>;
    constexpr auto specs = Layer::template weights<In...>;
    const std::size_t param_storage = std::max<std::size_t>(xf::total_storage(specs), 1);
    const auto param_logical = parameter_positions(specs);
    const std::array<std::vector<std::size_t>, k> in_logical{logical_positions<In>()...};
    const std::array<std::size_t, k> in_storage{samples * In::storage...};
    const auto out_logical = logical_positions<Out>();

    dvec params = random_values(param_storage, param_logical, seed, -0.5, 0.5);
    std::array<dvec, k> inputs;
    for (std::size_t i = 0; i < k; ++i)
        inputs[i] = random_values(in_storage[i], in_logical[i], seed + 10 + i, -2.0, 2.0);
    const dvec c = random_values(samples * Out::storage, out_logical, seed + 20, -1.0, 1.0);

    // The float forward, against the reference it will be differenced with.
    const auto params_f = to_float(params, param_logical, 0.0f);
    std::array<xf::aligned_buffer, k> inputs_f;
    std::array<const float*, k> input_pointers;
    for (std::size_t i = 0; i < k; ++i) {
        inputs_f[i] = to_float(inputs[i], in_logical[i], not_a_number);
        input_pointers[i] = inputs_f[i].data();
    }
    xf::aligned_buffer out(samples * Out::storage);
    Layer::template forward<In...>(params_f.data(), samples, input_pointers, out.data());
    const dvec expected = reference(params, inputs, samples);
    for (std::size_t p : out_logical)
        BOOST_TEST_REQUIRE(
            std::abs(out.data()[p] - expected[p]) <= 1e-5 * (1 + std::abs(expected[p])),
            "forward reference disagrees at " << p);

    // The backward, onto gradients that already hold 0.25 (padding lanes of parameters: 0).
    constexpr double base = 0.25;
    const auto out_grad = to_float(c, out_logical, not_a_number);
    auto param_grads = to_float(dvec(param_storage, base), param_logical, 0.0f);
    std::array<xf::aligned_buffer, k> input_grads;
    std::array<float*, k> input_grad_pointers;
    for (std::size_t i = 0; i < k; ++i) {
        input_grads[i] = to_float(dvec(in_storage[i], base), in_logical[i], 0.0f);
        input_grad_pointers[i] = input_grads[i].data();
    }
    Layer::template backward<In...>(params_f.data(), param_grads.data(), samples, input_pointers,
                                    out.data(), out_grad.data(), input_grad_pointers);

    // Not inlined: g++ 12 otherwise reports a false -Wfree-nonheap-object in the loops below.
    const auto loss = [&](const dvec& p, const std::array<dvec, k>& x) __attribute__((noinline)) {
        const dvec y = reference(p, x, samples);
        double sum = 0;
        for (std::size_t q : out_logical)
            sum += c[q] * y[q];
        return sum;
    };
    const auto difference = [&](double& variable, const auto& evaluate) {
        const double saved = variable;
        variable = saved + step;
        const double plus = evaluate();
        variable = saved - step;
        const double minus = evaluate();
        variable = saved;
        return (plus - minus) / (2 * step);
    };
    double worst = 0;
    const auto compare = [&](double analytic, double numeric, const char* what, std::size_t at) {
        const double error = std::abs(analytic - numeric) / (1 + std::abs(numeric));
        worst = std::max(worst, error);
        BOOST_TEST(error <= tolerance, what << "[" << at << "]: backward " << analytic
                                            << ", finite difference " << numeric);
    };
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t p : in_logical[i])
            compare(input_grads[i].data()[p] - base,
                    difference(inputs[i][p], [&] { return loss(params, inputs); }), "input", p);
    for (std::size_t p : param_logical)
        compare(param_grads.data()[p] - base,
                difference(params[p], [&] { return loss(params, inputs); }), "parameter", p);
    for (std::size_t p = 0; p < param_storage; ++p)
        if (std::find(param_logical.begin(), param_logical.end(), p) == param_logical.end())
            BOOST_TEST(param_grads.data()[p] == 0.0f, "padding lane " << p << " of the weights");
    BOOST_TEST_MESSAGE("worst relative error " << worst);

    // Without input gradients: the same parameter gradients, and nothing written anywhere.
    auto alone = to_float(dvec(param_storage, base), param_logical, 0.0f);
    std::array<float*, k> none{};
    Layer::template backward<In...>(params_f.data(), alone.data(), samples, input_pointers,
                                    out.data(), out_grad.data(), none);
    for (std::size_t p = 0; p < param_storage; ++p)
        BOOST_TEST(alone.data()[p] == param_grads.data()[p]);
}

// ---- double-precision references on the padded layout ---------------------------------------

template <class Act>
void activate_rows(dvec& data, std::size_t rows, std::size_t n, std::size_t stride) {
    for (std::size_t r = 0; r < rows; ++r) {
        if constexpr (std::is_same_v<Act, xf::softmax_t>) {
            std::vector<double> row(data.begin() + r * stride, data.begin() + r * stride + n);
            reference::softmax_row(row);
            std::copy(row.begin(), row.end(), data.begin() + r * stride);
        } else {
            for (std::size_t c = 0; c < n; ++c)
                data[r * stride + c] = Act::apply(data[r * stride + c]);
        }
    }
}

template <class Layer, xf::Shape In>
dvec dense_reference(const dvec& p, const std::array<dvec, 1>& x, std::size_t count) {
    constexpr std::size_t units = Layer::units, stride = xf::padded(units);
    const std::size_t rows = count * In::rows;
    dvec y(rows * stride, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < units; ++j) {
            double sum = Layer::use_bias ? p[In::last * stride + j] : 0.0;
            for (std::size_t i = 0; i < In::last; ++i)
                sum += x[0][r * In::row_stride + i] * p[i * stride + j];
            y[r * stride + j] = sum;
        }
    activate_rows<typename Layer::activation_type>(y, rows, units, stride);
    return y;
}

template <class Layer, xf::Shape In>
dvec activation_reference(const dvec&, const std::array<dvec, 1>& x, std::size_t count) {
    dvec y = x[0];
    activate_rows<typename Layer::activation_type>(y, count * In::rows, In::last, In::row_stride);
    return y;
}

template <class Combine, std::size_t K>
auto merge_reference(Combine combine) {
    return [=](const dvec&, const std::array<dvec, K>& x, std::size_t) {
        dvec y(x[0].size());
        for (std::size_t p = 0; p < y.size(); ++p) {
            std::array<double, K> values;
            for (std::size_t i = 0; i < K; ++i)
                values[i] = x[i][p];
            y[p] = combine(values);
        }
        return y;
    };
}

}  // namespace

// ---- Dense ------------------------------------------------------------------------------------

namespace {
template <std::size_t In, std::size_t Units, auto Act, bool UseBias = true>
void check_dense() {
    using layer = xf::Dense<Units, Act, "", UseBias, void>;
    BOOST_TEST_CONTEXT("Dense<" << Units << ", " << layer::activation_type::name << "> on " << In) {
        check_gradients<layer, xf::shape<In>>(dense_reference<layer, xf::shape<In>>, In + Units);
    }
}
}  // namespace

BOOST_AUTO_TEST_CASE(dense_at_sizes_around_the_simd_width) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t In, std::size_t Out>() {
            check_dense<In, Out, xf::linear>();
            check_dense<In, Out, xf::relu>();
            check_dense<In, Out, xf::softmax>();
            check_dense<In, Out, xf::gelu>();  // recomputes the pre-activation
            check_dense<In, Out, xf::linear, false>();
        };
        // Every size as input and as output once; the pairs mix whole and partial registers.
        (one_size.template operator()<sizes[I], sizes[(I + 1) % sizes.size()]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});
}

BOOST_AUTO_TEST_CASE(dense_with_every_activation) {
    [&]<auto... A>() {
        (check_dense<17, 33, A>(), ...);
    }
    .template operator()<xf::linear, xf::relu, xf::leaky_relu, xf::sigmoid, xf::tanh, xf::softmax,
                         xf::elu, xf::selu, xf::gelu, xf::softplus, xf::softsign, xf::swish,
                         xf::silu, xf::exponential, xf::hard_sigmoid>();
}

BOOST_AUTO_TEST_CASE(dense_on_sequences) {
    using layer = xf::Dense<7, xf::tanh, "", true, void>;
    check_gradients<layer, xf::shape<3, 17>>(dense_reference<layer, xf::shape<3, 17>>);
}

BOOST_AUTO_TEST_CASE(dense_preactivation_gradient_is_the_linear_backward) {
    // backward_preactivation(g) must equal the backward of the same Dense without activation.
    using logits = xf::Dense<33, xf::sigmoid, "", true, void>;
    using linear = xf::Dense<33, xf::linear, "", true, void>;
    using In = xf::shape<17>;
    const auto param_logical = parameter_positions(logits::weights<In>);
    const std::size_t storage = xf::total_storage(logits::weights<In>);
    const auto params =
        to_float(random_values(storage, param_logical, 3, -0.5, 0.5), param_logical, 0);
    const auto in_logical = logical_positions<In>();
    const auto x = to_float(random_values(samples * In::storage, in_logical, 4, -2, 2), in_logical,
                            not_a_number);
    const auto out_logical = logical_positions<xf::shape<33>>();
    const std::size_t out_storage = samples * xf::shape<33>::storage;
    const auto g =
        to_float(random_values(out_storage, out_logical, 5, -1, 1), out_logical, not_a_number);
    xf::aligned_buffer grads_a(storage), grads_b(storage), out(out_storage);
    xf::aligned_buffer dx_a(samples * In::storage), dx_b(samples * In::storage);
    logits::backward_preactivation<In>(params.data(), grads_a.data(), samples, {x.data()}, g.data(),
                                       {dx_a.data()});
    linear::forward<In>(params.data(), samples, {x.data()}, out.data());
    linear::backward<In>(params.data(), grads_b.data(), samples, {x.data()}, out.data(), g.data(),
                         {dx_b.data()});
    for (std::size_t p = 0; p < storage; ++p)
        BOOST_TEST(grads_a.data()[p] == grads_b.data()[p]);
    for (std::size_t p : in_logical)
        BOOST_TEST(dx_a.data()[p] == dx_b.data()[p]);
}

// ---- Activation -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(activation_layer_with_every_activation_and_size) {
    auto check = [&]<auto Act, xf::Shape In>() {
        using layer = xf::Activation<Act, "", void>;
        BOOST_TEST_CONTEXT("Activation<" << layer::activation_type::name << "> on " << In::size) {
            check_gradients<layer, In>(activation_reference<layer, In>);
        }
    };
    [&]<auto... A>() {
        (check.template operator()<A, xf::shape<2, 33>>(), ...);
    }
    .template operator()<xf::linear, xf::relu, xf::leaky_relu, xf::sigmoid, xf::tanh, xf::softmax,
                         xf::elu, xf::selu, xf::gelu, xf::softplus, xf::softsign, xf::swish,
                         xf::silu, xf::exponential, xf::hard_sigmoid>();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (check.template operator()<xf::softmax, xf::shape<sizes[I]>>(), ...);
        (check.template operator()<xf::selu, xf::shape<sizes[I]>>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});
}

// ---- Concatenate ------------------------------------------------------------------------------

namespace {
// Output position of every input's logical floats, from the shapes alone: inputs laid end to
// end along `axis` of a rank-1 or rank-2 sample.
template <std::size_t Axis, xf::Shape Out, xf::Shape... In>
auto concatenate_reference() {
    return [](const dvec&, const std::array<dvec, sizeof...(In)>& x, std::size_t count) {
        dvec y(count * Out::storage, 0.0);
        std::size_t before = 0;  // along the axis
        std::size_t i = 0;
        (
            [&]<xf::Shape S>() {
                for (std::size_t s = 0; s < count; ++s)
                    for (std::size_t r = 0; r < S::rows; ++r)
                        for (std::size_t c = 0; c < S::last; ++c) {
                            const bool last_axis = Axis == S::rank - 1;
                            const std::size_t row = last_axis ? r : r + before;
                            const std::size_t col = last_axis ? c + before : c;
                            y[s * Out::storage + row * Out::row_stride + col] =
                                x[i][s * S::storage + r * S::row_stride + c];
                        }
                before += S::dims[Axis];
                ++i;
            }.template operator()<In>(),
            ...);
        return y;
    };
}
}  // namespace

BOOST_AUTO_TEST_CASE(concatenate_last_and_outer_axes) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<std::size_t A, std::size_t B>() {
            using layer = xf::Concatenate<-1, "", void>;
            using Out = layer::output_shape<xf::shape<A>, xf::shape<B>, xf::shape<A>>;
            check_gradients<layer, xf::shape<A>, xf::shape<B>, xf::shape<A>>(
                concatenate_reference<0, Out, xf::shape<A>, xf::shape<B>, xf::shape<A>>());
        };
        (one_size.template operator()<sizes[I], sizes[(I + 2) % sizes.size()]>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});

    using steps = xf::Concatenate<1, "", void>;
    check_gradients<steps, xf::shape<3, 17>, xf::shape<2, 17>>(
        concatenate_reference<0, xf::shape<5, 17>, xf::shape<3, 17>, xf::shape<2, 17>>());
    using features = xf::Concatenate<-1, "", void>;
    check_gradients<features, xf::shape<3, 17>, xf::shape<3, 5>>(
        concatenate_reference<1, xf::shape<3, 22>, xf::shape<3, 17>, xf::shape<3, 5>>());
}

// ---- Dot --------------------------------------------------------------------------------------

namespace {
// Keras' batch_dot along sample axis `Axis`, optionally of L2-normalised vectors.
template <std::size_t Axis, bool Normalize, xf::Shape L, xf::Shape R, xf::Shape Out>
dvec dot_reference(const dvec&, const std::array<dvec, 2>& x, std::size_t count) {
    const auto element = [&]<xf::Shape S>(const dvec& v, std::size_t s, std::size_t vector,
                                          std::size_t k) {
        const std::size_t row = S::rank == 1 ? 0 : (Axis == 1 ? vector : k);
        const std::size_t col = S::rank == 1 ? k : (Axis == 1 ? k : vector);
        return v[s * S::storage + row * S::row_stride + col];
    };
    constexpr std::size_t n = L::dims[Axis];
    constexpr std::size_t left_count = L::rank == 1 ? 1 : L::dims[1 - Axis];
    constexpr std::size_t right_count = R::rank == 1 ? 1 : R::dims[1 - Axis];
    dvec y(count * Out::storage, 0.0);
    for (std::size_t s = 0; s < count; ++s)
        for (std::size_t i = 0; i < left_count; ++i)
            for (std::size_t j = 0; j < right_count; ++j) {
                double dot = 0, left = 0, right = 0;
                for (std::size_t k = 0; k < n; ++k) {
                    const double a = element.template operator()<L>(x[0], s, i, k);
                    const double b = element.template operator()<R>(x[1], s, j, k);
                    dot += a * b;
                    left += a * a;
                    right += b * b;
                }
                if (Normalize)
                    dot /= std::sqrt(std::max(left, 1e-12)) * std::sqrt(std::max(right, 1e-12));
                y[s * Out::storage + i * Out::row_stride + j] = dot;
            }
    return y;
}

template <int Axes, bool Normalize, xf::Shape L, xf::Shape R>
void check_dot() {
    using layer = xf::Dot<Axes, Normalize, "", void>;
    using Out = typename layer::template output_shape<L, R>;
    constexpr std::size_t axis = layer::template rule<L, R>::axis;
    BOOST_TEST_CONTEXT("Dot<" << Axes << ", " << Normalize << "> on " << L::size) {
        check_gradients<layer, L, R>(dot_reference<axis, Normalize, L, R, Out>);
    }
}
}  // namespace

BOOST_AUTO_TEST_CASE(dot_of_vectors_and_sequences) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (check_dot<1, false, xf::shape<sizes[I]>, xf::shape<sizes[I]>>(), ...);
        (check_dot<-1, true, xf::shape<sizes[I]>, xf::shape<sizes[I]>>(), ...);
    }
    (std::make_index_sequence<sizes.size()>{});
    check_dot<2, false, xf::shape<4, 17>, xf::shape<6, 17>>();
    check_dot<2, true, xf::shape<4, 17>, xf::shape<6, 17>>();
    check_dot<1, false, xf::shape<4, 9>, xf::shape<4, 3>>();
    check_dot<1, true, xf::shape<4, 9>, xf::shape<4, 3>>();
}

// ---- merges -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(merge_layers) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one_size = [&]<xf::Shape S>() {
            const auto sum = [](const auto& v) { return v[0] + v[1] + v[2]; };
            check_gradients<xf::Add<"", void>, S, S, S>(merge_reference<decltype(sum), 3>(sum));
            const auto difference = [](const auto& v) { return v[0] - v[1]; };
            check_gradients<xf::Subtract<"", void>, S, S>(
                merge_reference<decltype(difference), 2>(difference));
            const auto product = [](const auto& v) { return v[0] * v[1] * v[2]; };
            check_gradients<xf::Multiply<"", void>, S, S, S>(
                merge_reference<decltype(product), 3>(product));
            const auto mean = [](const auto& v) { return (v[0] + v[1] + v[2]) / 3; };
            check_gradients<xf::Average<"", void>, S, S, S>(
                merge_reference<decltype(mean), 3>(mean));
            const auto largest = [](const auto& v) { return std::max({v[0], v[1], v[2]}); };
            check_gradients<xf::Maximum<"", void>, S, S, S>(
                merge_reference<decltype(largest), 3>(largest));
            const auto smallest = [](const auto& v) { return std::min(v[0], v[1]); };
            check_gradients<xf::Minimum<"", void>, S, S>(
                merge_reference<decltype(smallest), 2>(smallest));
        };
        (one_size.template operator()<xf::shape<sizes[I]>>(), ...);
        one_size.template operator()<xf::shape<2, 17>>();
    }
    (std::make_index_sequence<sizes.size()>{});
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
