#define BOOST_TEST_MODULE kernels_activations
#include <boost/test/unit_test.hpp>

#include <xfuse/kernels/activations.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <limits>
#include <random>
#include <ratio>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// Every activation is compared with a double-precision reference written here with std::
// functions (Keras' formulas, never the library's), through the SIMD kernel and the scalar path.

namespace xf = xfuse;

namespace {

using aligned_buffer = std::vector<float, xsimd::aligned_allocator<float, xf::buffer_alignment>>;

constexpr std::array<std::size_t, 10> row_lengths{1, 7, 8, 15, 16, 17, 31, 33, 96, 100};
constexpr std::size_t row_count = 3;
constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();
constexpr float plus_infinity = std::numeric_limits<float>::infinity();
// Lanes between padded(n) and the stride belong to nobody; a kernel must leave them alone.
constexpr float gap_sentinel = 12345.0f;

// Zero of both signs and values on either side of the relu/leaky_relu kink, then magnitudes
// around 1, in the range where exp(x) is a normal float (|x| < 87.3), and far beyond it.
const std::vector<float> edge_inputs{0.0f,
                                     -0.0f,
                                     std::numeric_limits<float>::denorm_min(),
                                     -std::numeric_limits<float>::denorm_min(),
                                     1e-30f,
                                     -1e-30f,
                                     1e-3f,
                                     -1e-3f,
                                     1.0f,
                                     -1.0f,
                                     20.0f,
                                     -20.0f,
                                     88.0f,
                                     -88.0f,
                                     1000.0f,
                                     -1000.0f};

// `count` values: the edge inputs first, rotated by `rotation` so that for different row lengths
// they fall into different lanes (the masked tail included), then uniform in [-spread, spread].
std::vector<float> make_inputs(std::size_t count, std::size_t rotation, float spread,
                               bool with_edges = true) {
    std::mt19937 engine(static_cast<unsigned>(1000 + count + rotation));
    std::uniform_real_distribution<float> uniform(-spread, spread);
    std::vector<float> values(count);
    const std::size_t edges = with_edges ? edge_inputs.size() : 0;
    for (std::size_t i = 0; i < count; ++i)
        values[i] = i < edges ? edge_inputs[(i + rotation) % edges] : uniform(engine);
    return values;
}

// `rows` rows of n logical values, `stride` apart: padding lanes poisoned, gap lanes marked.
aligned_buffer make_rows(const std::vector<float>& logical, std::size_t n, std::size_t stride,
                         float padding) {
    const std::size_t rows = logical.size() / n;
    aligned_buffer data(rows * stride, gap_sentinel);
    for (std::size_t r = 0; r < rows; ++r) {
        std::copy_n(logical.begin() + static_cast<std::ptrdiff_t>(r * n), n, &data[r * stride]);
        std::fill(&data[r * stride + n], &data[r * stride + xf::padded(n)], padding);
    }
    return data;
}

struct tolerance {
    double relative;
    double absolute;
};

// Float results: a few ulps of relative error from the functions themselves, and an absolute
// floor for results near zero, where xsimd's exp flushes to 0 below exp(-87.3) (std::exp gives a
// subnormal) and where cancellation in the reference formulas leaves ~1e-16 absolute noise.
constexpr tolerance float_tolerance{1e-5, 1e-6};
// apply<double> must compute in double (constants included), not round through float.
constexpr tolerance double_tolerance{1e-12, 1e-14};

bool close(double got, double want, tolerance tol) {
    if (std::isnan(want))
        return std::isnan(got);
    if (std::isinf(want))
        return got == want;
    return std::abs(got - want) <= tol.absolute + tol.relative * std::abs(want);
}

template <class A, class Reference>
void check_elementwise(Reference reference) {
    for (const std::size_t n : row_lengths) {
        for (const std::size_t stride : {xf::padded(n), xf::padded(n) + xf::simd_width}) {
            const std::vector<float> inputs = make_inputs(row_count * n, n, 25.0f);
            aligned_buffer data = make_rows(inputs, n, stride, not_a_number);
            xf::apply_activation<A>(data.data(), row_count, n, stride);
            for (std::size_t r = 0; r < row_count; ++r) {
                for (std::size_t j = 0; j < n; ++j) {
                    const float x = inputs[r * n + j];
                    const float got = data[r * stride + j];
                    const double want = reference(static_cast<double>(x));
                    BOOST_TEST(close(got, want, float_tolerance),
                               A::name << "(" << std::setprecision(9) << x << ") = " << got
                                       << " through apply_activation, want " << want << " (n=" << n
                                       << ", stride=" << stride << ", row " << r << ")");
                }
                for (std::size_t j = xf::padded(n); j < stride; ++j)
                    BOOST_TEST(
                        data[r * stride + j] == gap_sentinel,
                        A::name << " wrote past padded(n) (n=" << n << ", lane " << j << ")");
            }
        }
    }
    for (const float x : make_inputs(200, 0, 25.0f)) {
        const double want = reference(static_cast<double>(x));
        const float got = A::apply(x);
        BOOST_TEST(close(got, want, float_tolerance),
                   A::name << "(" << std::setprecision(9) << x << ") = " << got
                           << " through apply<float>, want " << want);
        const double got_double = A::apply(static_cast<double>(x));
        BOOST_TEST(close(got_double, want, double_tolerance),
                   A::name << "(" << std::setprecision(17) << x << ") = " << got_double
                           << " through apply<double>, want " << want);
    }
}

// The TensorFlow kernel's SELU constants (tf.keras documents them as 1.67326324, 1.05070098).
constexpr double selu_alpha = 1.6732632423543772848170429916717;
constexpr double selu_scale = 1.0507009873554804934193349852946;

double reference_sigmoid(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

double reference_leaky_relu(double x, double slope) {
    return x > 0.0 ? x : slope * x;
}

double reference_elu(double x, double alpha) {
    return x > 0.0 ? x : alpha * std::expm1(x);
}

// Softmax of each row of n values, computed in double the textbook way.
std::vector<double> reference_softmax(const std::vector<float>& logits, std::size_t n) {
    std::vector<double> out(logits.size());
    for (std::size_t begin = 0; begin < logits.size(); begin += n) {
        const double max =
            *std::max_element(logits.begin() + static_cast<std::ptrdiff_t>(begin),
                              logits.begin() + static_cast<std::ptrdiff_t>(begin + n));
        double sum = 0.0;
        for (std::size_t j = begin; j < begin + n; ++j)
            sum += out[j] = std::exp(logits[j] - max);
        for (std::size_t j = begin; j < begin + n; ++j)
            out[j] /= sum;
    }
    return out;
}

// Runs softmax through apply_activation and checks it against the reference, the row sums, the
// zeroed padding and the untouched gap.
void check_softmax(const std::vector<float>& logits, std::size_t n, std::size_t stride) {
    const std::size_t rows = logits.size() / n;
    const std::vector<double> want = reference_softmax(logits, n);
    aligned_buffer data = make_rows(logits, n, stride, not_a_number);
    xf::apply_activation<xf::softmax_t>(data.data(), rows, n, stride);
    for (std::size_t r = 0; r < rows; ++r) {
        double sum = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
            const float got = data[r * stride + j];
            sum += got;
            BOOST_TEST(std::isfinite(got), "softmax gave " << got << " (n=" << n << ")");
            BOOST_TEST(close(got, want[r * n + j], float_tolerance),
                       "softmax lane " << j << " = " << std::setprecision(9) << got << ", want "
                                       << want[r * n + j] << " (n=" << n << ", row " << r << ")");
        }
        BOOST_TEST(std::abs(sum - 1.0) <= 1e-6,
                   "softmax row sums to " << std::setprecision(9) << sum << " (n=" << n << ")");
        for (std::size_t j = n; j < xf::padded(n); ++j)
            BOOST_TEST(data[r * stride + j] == 0.0f, "softmax padding lane " << j << " not zeroed");
        for (std::size_t j = xf::padded(n); j < stride; ++j)
            BOOST_TEST(data[r * stride + j] == gap_sentinel, "softmax wrote past padded(n)");
    }
}

// Layers take activations as template arguments.
template <auto A>
struct probe {
    static constexpr std::string_view name = decltype(A)::name;
    static void run(float* data, std::size_t rows, std::size_t n, std::size_t stride) {
        xf::apply_activation<decltype(A)>(data, rows, n, stride);
    }
};

using leaky_relu_slope_0_1_t = xf::leaky_relu_t<std::ratio<1, 10>>;
constexpr leaky_relu_slope_0_1_t leaky_relu_slope_0_1{};

struct not_an_activation {
    static constexpr std::string_view name = "not_an_activation";
};

// Kernels call apply from noexcept code, so a throwing apply is not an activation.
struct throwing_activation {
    static constexpr std::string_view name = "throwing_activation";
    template <class T>
    static T apply(T x) {
        return x;
    }
};

}  // namespace

static_assert(xf::ElementwiseActivation<xf::relu_t> && xf::ElementwiseActivation<xf::gelu_t> &&
              xf::ElementwiseActivation<leaky_relu_slope_0_1_t>);
static_assert(xf::RowwiseActivation<xf::softmax_t> && !xf::ElementwiseActivation<xf::softmax_t>);
static_assert(!xf::RowwiseActivation<xf::relu_t>);
static_assert(xf::ActivationFunction<xf::softmax_t> && xf::ActivationFunction<xf::hard_sigmoid_t>);
static_assert(!xf::ActivationFunction<int> && !xf::ActivationFunction<not_an_activation>);
static_assert(!xf::ActivationFunction<throwing_activation>);
static_assert(std::is_empty_v<xf::sigmoid_t> && std::is_empty_v<xf::softmax_t>);

BOOST_AUTO_TEST_SUITE(elementwise)

BOOST_AUTO_TEST_CASE(linear) {
    check_elementwise<xf::linear_t>([](double x) { return x; });
}

BOOST_AUTO_TEST_CASE(relu) {
    check_elementwise<xf::relu_t>([](double x) { return x > 0.0 ? x : 0.0; });
}

BOOST_AUTO_TEST_CASE(leaky_relu_default_slope_is_0_2) {
    check_elementwise<xf::leaky_relu_t<>>([](double x) { return reference_leaky_relu(x, 0.2); });
}

BOOST_AUTO_TEST_CASE(leaky_relu_configured_slope) {
    check_elementwise<leaky_relu_slope_0_1_t>(
        [](double x) { return reference_leaky_relu(x, 0.1); });
}

BOOST_AUTO_TEST_CASE(sigmoid) {
    check_elementwise<xf::sigmoid_t>(reference_sigmoid);
    BOOST_TEST(xf::sigmoid_t::apply(-1000.0f) == 0.0f);
    BOOST_TEST(xf::sigmoid_t::apply(1000.0f) == 1.0f);
    const xf::simd_batch extremes = xf::sigmoid_t::apply(xf::simd_batch(-1000.0f)) +
                                    xf::sigmoid_t::apply(xf::simd_batch(1000.0f));
    BOOST_TEST(xsimd::all(extremes == xf::simd_batch(1.0f)));
}

BOOST_AUTO_TEST_CASE(tanh) {
    check_elementwise<xf::tanh_t>([](double x) { return std::tanh(x); });
}

BOOST_AUTO_TEST_CASE(elu) {
    check_elementwise<xf::elu_t>([](double x) { return reference_elu(x, 1.0); });
}

BOOST_AUTO_TEST_CASE(selu) {
    check_elementwise<xf::selu_t>(
        [](double x) { return selu_scale * reference_elu(x, selu_alpha); });
}

BOOST_AUTO_TEST_CASE(gelu) {
    check_elementwise<xf::gelu_t>(
        [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); });
}

BOOST_AUTO_TEST_CASE(softplus) {
    // Above 40, log1p(exp(-x)) < 5e-18 is below double's resolution of x; it avoids exp overflow.
    check_elementwise<xf::softplus_t>(
        [](double x) { return x > 40.0 ? x : std::log1p(std::exp(x)); });
}

BOOST_AUTO_TEST_CASE(softsign) {
    check_elementwise<xf::softsign_t>([](double x) { return x / (1.0 + std::abs(x)); });
}

BOOST_AUTO_TEST_CASE(swish) {
    check_elementwise<xf::swish_t>([](double x) { return x * reference_sigmoid(x); });
}

BOOST_AUTO_TEST_CASE(silu) {
    check_elementwise<xf::silu_t>([](double x) { return x * reference_sigmoid(x); });
}

BOOST_AUTO_TEST_CASE(exponential) {
    check_elementwise<xf::exponential_t>([](double x) { return std::exp(x); });
}

BOOST_AUTO_TEST_CASE(hard_sigmoid) {
    check_elementwise<xf::hard_sigmoid_t>(
        [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(softmax)

// Runs `exp` (a SIMD exp for arguments <= 0) on `specials` and a dense sweep of [-110, 0], and
// checks it against std::exp in double: relative error within relative_bound(x) where exp(x) is
// a normal float, absolute error below the smallest normal float beneath that (AVX-512 gives
// subnormals, xsimd's exp elsewhere flushes them to 0). Returns the results for `specials`
// and the worst relative error for x in [-2, 0] (a softmax's weights near the row's largest).
template <class Exp, class Bound>
std::pair<std::vector<float>, double> check_exp(std::vector<float> specials, Exp exp,
                                                Bound relative_bound) {
    std::vector<float> inputs = specials;
    for (int i = 0; i <= 220000; ++i)
        inputs.push_back(-110.0f * static_cast<float>(i) / 220000.0f);
    while (inputs.size() % xf::simd_width != 0)
        inputs.push_back(-1.0f);
    aligned_buffer values(inputs.begin(), inputs.end());
    for (std::size_t i = 0; i < values.size(); i += xf::simd_width)
        exp(xf::simd_batch::load_aligned(values.data() + i)).store_aligned(values.data() + i);
    const double smallest_normal = std::numeric_limits<float>::min();
    double worst_near_max = 0.0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const double x = inputs[i];
        const double expected = std::exp(x);
        const double got = values[i];
        if (expected >= smallest_normal) {
            const double relative = std::abs(got - expected) / expected;
            if (x >= -2.0)
                worst_near_max = std::max(worst_near_max, relative);
            BOOST_TEST(relative <= relative_bound(x), "exp(" << std::setprecision(9) << x << ") = "
                                                             << got << ", expected " << expected);
        } else {
            BOOST_TEST(got >= 0.0);
            BOOST_TEST(std::abs(got - expected) <= smallest_normal,
                       "exp(" << std::setprecision(9) << x << ") = " << got);
        }
    }
    return {std::vector<float>(values.begin(), values.begin() + specials.size()), worst_near_max};
}

// exp_nonpositive (the sigmoid's and the losses' exp): relative error within 3 ulp everywhere,
// exactly 0 for -inf and exactly 1 at 0.
BOOST_AUTO_TEST_CASE(exp_of_nonpositive_values_matches_std_exp) {
    const auto [values, worst] = check_exp(
        {0.0f, -0.0f, -std::numeric_limits<float>::denorm_min(), -1e-30f, -1e-7f, -0.34657359f,
         -0.34657361f, -0.69314718f, -87.33654f, -87.33655f, -103.0f, -104.0f, -105.0f, -1000.0f,
         -plus_infinity},
        [](const xf::simd_batch& x) { return xf::detail::exp_nonpositive(x); },
        [](double) { return 3.6e-7; });
    BOOST_TEST_MESSAGE("exp_nonpositive: worst relative error on [-2, 0] " << worst);
    BOOST_TEST(values[0] == 1.0f);
    BOOST_TEST(values[1] == 1.0f);
    BOOST_TEST(values[14] == 0.0f);  // -inf
    BOOST_TEST(values[13] == 0.0f);  // -1000
}

// The softmax's exp of d = logit - row max (detail::softmax_exp): relative error within
// 1.2e-7 + 8e-8 |d| (its reduction rounds d log2(e), so the error grows with |d|; the weights
// that matter, near the row's max, get about 1.5e-7), exactly 1 at 0 (a row's max maps to
// exp(0), and a one-element softmax must give 1) and exactly 0 far below and at -inf (a padding
// lane of a softmax row).
BOOST_AUTO_TEST_CASE(softmax_exp_matches_std_exp) {
    const auto [values, worst] = check_exp(
        {0.0f, -0.0f, -1e-30f, -1e-7f, -0.34657359f, -0.34657361f, -1.0f, -2.0f, -87.33f, -103.0f,
         -150.0f, -1000.0f, -1e30f, -3e38f, -plus_infinity},
        [](const xf::simd_batch& d) { return xf::detail::softmax_exp(d); },
        [](double d) { return 1.2e-7 + 8e-8 * std::abs(d); });
    BOOST_TEST_MESSAGE("softmax_exp: worst relative error on [-2, 0] " << worst);
    BOOST_TEST(worst <= 2.4e-7);
    BOOST_TEST(values[0] == 1.0f);
    BOOST_TEST(values[1] == 1.0f);
    for (std::size_t i = 10; i < values.size(); ++i)
        BOOST_TEST(values[i] == 0.0f, "special input " << i << " gave " << values[i]);
}

// A NaN logit reaches the softmax's exp as a NaN difference; it must stay NaN in every lane (a
// clamp that puts the constant first would turn it into the exp of the clamp, a plausible 0).
BOOST_AUTO_TEST_CASE(softmax_exp_keeps_nan) {
    const xf::simd_batch values =
        xf::detail::softmax_exp(xf::simd_batch(std::numeric_limits<float>::quiet_NaN()));
    for (std::size_t i = 0; i < xf::simd_width; ++i)
        BOOST_TEST(std::isnan(values.get(i)), "lane " << i << " gave " << values.get(i));
}

BOOST_AUTO_TEST_CASE(matches_reference_and_sums_to_one) {
    for (const std::size_t n : row_lengths)
        for (const std::size_t stride : {xf::padded(n), xf::padded(n) + xf::simd_width})
            check_softmax(make_inputs(row_count * n, n, 10.0f, false), n, stride);
}

BOOST_AUTO_TEST_CASE(extreme_logits_stay_finite) {
    const std::array<float, 6> extremes{1000.0f, -1000.0f, 0.0f, 999.0f, -999.5f, 1000.0f};
    for (const std::size_t n : row_lengths) {
        std::vector<float> logits(row_count * n);
        for (std::size_t i = 0; i < logits.size(); ++i)
            logits[i] = extremes[(i + n) % 6];
        check_softmax(logits, n, xf::padded(n));
    }
}

BOOST_AUTO_TEST_CASE(padding_never_influences_the_result) {
    // NaN would poison the max and the sum; 1e30 would win the max and flush every logical exp
    // to 0; +inf would turn the shifted logits into NaN.
    for (const std::size_t n : row_lengths) {
        if (xf::padded(n) == n)
            continue;
        const std::vector<float> logits = make_inputs(n, n, 10.0f, false);
        aligned_buffer clean = make_rows(logits, n, xf::padded(n), 0.0f);
        xf::softmax_t::apply_row(clean.data(), n);
        for (const float poison : {not_a_number, 1e30f, -1e30f, plus_infinity}) {
            aligned_buffer poisoned = make_rows(logits, n, xf::padded(n), poison);
            xf::softmax_t::apply_row(poisoned.data(), n);
            for (std::size_t j = 0; j < n; ++j)
                BOOST_TEST(poisoned[j] == clean[j],
                           "padding " << poison << " changed lane " << j << " (n=" << n << ")");
        }
    }
}

BOOST_AUTO_TEST_CASE(single_element_is_exactly_one) {
    for (const float x : {0.0f, 1.0f, -1.0f, 3.75f, 88.0f, 1000.0f, -1000.0f, 1e30f}) {
        aligned_buffer row = make_rows({x}, 1, xf::padded(1), not_a_number);
        xf::softmax_t::apply_row(row.data(), 1);
        BOOST_TEST(row[0] == 1.0f, "softmax([" << x << "]) = " << std::setprecision(9) << row[0]);
    }
    aligned_buffer rows = make_rows({-1000.0f, 0.0f, 2.5f, 1000.0f}, 1, xf::padded(1), 1e30f);
    xf::apply_activation<xf::softmax_t>(rows.data(), 4, 1, xf::padded(1));
    for (std::size_t r = 0; r < 4; ++r)
        BOOST_TEST(rows[r * xf::padded(1)] == 1.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(interface)

BOOST_AUTO_TEST_CASE(names_are_keras_names) {
    BOOST_TEST(xf::linear_t::name == "linear");
    BOOST_TEST(xf::relu_t::name == "relu");
    BOOST_TEST(xf::leaky_relu_t<>::name == "leaky_relu");
    BOOST_TEST(leaky_relu_slope_0_1_t::name == "leaky_relu");
    BOOST_TEST(xf::sigmoid_t::name == "sigmoid");
    BOOST_TEST(xf::tanh_t::name == "tanh");
    BOOST_TEST(xf::softmax_t::name == "softmax");
    BOOST_TEST(xf::elu_t::name == "elu");
    BOOST_TEST(xf::selu_t::name == "selu");
    BOOST_TEST(xf::gelu_t::name == "gelu");
    BOOST_TEST(xf::softplus_t::name == "softplus");
    BOOST_TEST(xf::softsign_t::name == "softsign");
    BOOST_TEST(xf::swish_t::name == "swish");
    BOOST_TEST(xf::silu_t::name == "silu");
    BOOST_TEST(xf::exponential_t::name == "exponential");
    BOOST_TEST(xf::hard_sigmoid_t::name == "hard_sigmoid");
}

BOOST_AUTO_TEST_CASE(objects_are_template_arguments) {
    BOOST_TEST(probe<xf::linear>::name == "linear");
    BOOST_TEST(probe<xf::relu>::name == "relu");
    BOOST_TEST(probe<xf::leaky_relu>::name == "leaky_relu");
    BOOST_TEST(probe<xf::sigmoid>::name == "sigmoid");
    BOOST_TEST(probe<xf::tanh>::name == "tanh");
    BOOST_TEST(probe<xf::softmax>::name == "softmax");
    BOOST_TEST(probe<xf::elu>::name == "elu");
    BOOST_TEST(probe<xf::selu>::name == "selu");
    BOOST_TEST(probe<xf::gelu>::name == "gelu");
    BOOST_TEST(probe<xf::softplus>::name == "softplus");
    BOOST_TEST(probe<xf::softsign>::name == "softsign");
    BOOST_TEST(probe<xf::swish>::name == "swish");
    BOOST_TEST(probe<xf::silu>::name == "silu");
    BOOST_TEST(probe<xf::exponential>::name == "exponential");
    BOOST_TEST(probe<xf::hard_sigmoid>::name == "hard_sigmoid");
    BOOST_TEST(probe<leaky_relu_slope_0_1>::name == "leaky_relu");

    // Same function, different activations: the types must differ.
    BOOST_TEST((!std::is_same_v<probe<xf::swish>, probe<xf::silu>>));
    BOOST_TEST((!std::is_same_v<probe<xf::leaky_relu>, probe<leaky_relu_slope_0_1>>));
    BOOST_TEST(xf::leaky_relu_t<>::negative_slope == 0.2);

    // The kernel runs through a template parameter object.
    aligned_buffer data = make_rows({-2.0f, 3.0f}, 1, xf::padded(1), not_a_number);
    probe<xf::leaky_relu>::run(data.data(), 2, 1, xf::padded(1));
    BOOST_TEST(data[0] == 0.2f * -2.0f);
    BOOST_TEST(data[xf::padded(1)] == 3.0f);
    aligned_buffer pair = make_rows({0.0f, 0.0f}, 2, xf::padded(2), not_a_number);
    probe<xf::softmax>::run(pair.data(), 1, 2, xf::padded(2));
    BOOST_TEST(pair[0] == 0.5f);
    BOOST_TEST(pair[1] == 0.5f);
}

BOOST_AUTO_TEST_SUITE_END()
