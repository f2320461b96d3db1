#define BOOST_TEST_MODULE kernels_dense_tile
#include <boost/test/unit_test.hpp>

#include <xfuse/kernels/aligned_buffer.hpp>
#include <xfuse/kernels/arch/target.hpp>
#include <xfuse/kernels/attention.hpp>
#include <xfuse/kernels/dense_nonzero.hpp>
#include <xfuse/kernels/dense_tile.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include "support/reference.hpp"

// The register-blocked Dense and the fused attention against the tests' double-precision
// references, for row counts that make whole blocks, partial blocks and lone rows, at the
// blocking of whatever target (or XFUSE_TARGET_REGISTERS) the test is built for.

namespace xf = xfuse;

namespace {

constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();

struct dense_parameters {
    xt::xarray<float> kernel, bias;  // Keras' (in, out) and (out)
    xf::aligned_buffer padded_kernel, padded_bias;
};

template <std::size_t In, std::size_t Out>
dense_parameters random_dense(unsigned seed) {
    constexpr std::size_t stride = xf::padded(Out);
    dense_parameters p{reference::random_batch(In, Out, seed, 0.3f),
                       reference::random_batch(1, Out, seed + 1, 0.3f),
                       xf::aligned_buffer(In * stride), xf::aligned_buffer(stride)};
    p.bias.reshape({Out});
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t j = 0; j < stride; ++j)
            p.padded_kernel.data()[i * stride + j] = j < Out ? p.kernel(i, j) : 0.0f;
    for (std::size_t j = 0; j < stride; ++j)
        p.padded_bias.data()[j] = j < Out ? p.bias(j) : 0.0f;
    return p;
}

// x's rows padded, padding lanes NaN: no kernel may let them into a result.
xf::aligned_buffer padded_rows(const xt::xtensor<float, 2>& x, std::size_t stride) {
    xf::aligned_buffer rows(x.shape(0) * stride);
    for (std::size_t r = 0; r < x.shape(0); ++r)
        for (std::size_t c = 0; c < stride; ++c)
            rows.data()[r * stride + c] = c < x.shape(1) ? x(r, c) : not_a_number;
    return rows;
}

constexpr std::size_t row_counts[] = {1, 2, 3, 5, 7, 8, 9, 17, 33};

template <std::size_t In, std::size_t Out, class Activation, class Reference>
void check_dense(Reference activation) {
    const dense_parameters p = random_dense<In, Out>(11);
    for (const std::size_t rows : row_counts) {
        const xt::xtensor<float, 2> x = reference::random_batch(rows, In, 12 + unsigned(rows));
        const xf::aligned_buffer xs = padded_rows(x, xf::padded(In));
        constexpr std::size_t y_stride = xf::padded(Out);
        xf::aligned_buffer y(rows * y_stride);
        xf::kernels::dense_activation_rows<In, Out, Activation>(
            p.padded_kernel.data(), p.padded_bias.data(), xs.data(), xf::padded(In), y.data(),
            y_stride, rows);
        const reference::matrix expected =
            activation(reference::dense(reference::from_xtensor(x), p.kernel, p.bias));
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < Out; ++j)
                BOOST_TEST(std::abs(y.data()[r * y_stride + j] - expected[r][j]) <=
                               2e-5 * (1.0 + std::abs(expected[r][j])),
                           In << " -> " << Out << " " << Activation::name << ", " << rows
                              << " rows: y[" << r << ", " << j << "] = "
                              << y.data()[r * y_stride + j] << ", expected " << expected[r][j]);
    }
}

const auto identity = [](reference::matrix m) { return m; };
const auto relu = [](reference::matrix m) { return reference::relu(std::move(m)); };
const auto sigmoid = [](reference::matrix m) { return reference::sigmoid(std::move(m)); };
const auto softmax = [](reference::matrix m) { return reference::softmax(std::move(m)); };

template <std::size_t... N, class F>
void for_each_width(F f) {
    (f.template operator()<N>(), ...);
}

// pooled[r] = sum_j softmax(x W + b)[r, j] x[r, j], and the weights, with the blocked product
// and the zero-skipping one where a row does not fit the registers.
template <std::size_t N, bool SkipZeros>
void check_attention() {
    static_assert(xf::kernels::attention_fits_registers<N>);
    const dense_parameters p = random_dense<N, N>(21);
    constexpr std::size_t stride = xf::padded(N);
    for (const std::size_t rows : row_counts) {
        xt::xtensor<float, 2> x = reference::random_batch(rows, N, 22 + unsigned(rows));
        // Every other row relu output (about half zeros), as where attention follows relu layers.
        for (std::size_t r = 1; r < rows; r += 2)
            for (std::size_t k = 0; k < N; ++k)
                x(r, k) = std::max(x(r, k), 0.0f);
        const xf::aligned_buffer xs = padded_rows(x, stride);
        xf::aligned_buffer weights(rows * stride), pooled(rows * xf::simd_width);
        xf::kernels::attention_pooling_rows<N, true, SkipZeros>(
            p.padded_kernel.data(), p.padded_bias.data(), xs.data(), stride, weights.data(), stride,
            pooled.data(), xf::simd_width, rows);
        const reference::matrix xd = reference::from_xtensor(x);
        const reference::matrix a = reference::softmax(reference::dense(xd, p.kernel, p.bias));
        const reference::matrix expected = reference::row_dot(xd, a);
        for (std::size_t r = 0; r < rows; ++r) {
            BOOST_TEST(std::abs(pooled.data()[r * xf::simd_width] - expected[r][0]) <=
                           2e-5 * (1.0 + std::abs(expected[r][0])),
                       "attention " << N << ", " << rows << " rows: pooled[" << r
                                    << "] = " << pooled.data()[r * xf::simd_width] << ", expected "
                                    << expected[r][0]);
            for (std::size_t lane = 1; lane < xf::simd_width; ++lane)
                BOOST_TEST(pooled.data()[r * xf::simd_width + lane] == 0.0f);
            for (std::size_t j = 0; j < N; ++j)
                BOOST_TEST(
                    std::abs(weights.data()[r * stride + j] - a[r][j]) <= 2e-6,
                    "attention " << N << ", " << rows << " rows: a[" << r << ", " << j << "]");
        }
        // One row alone gives the bit-identical result of the same row in a batch.
        xf::aligned_buffer lone_weights(stride), lone_pooled(xf::simd_width);
        const std::size_t last = rows - 1;
        xf::kernels::attention_pooling_rows<N, true, SkipZeros>(
            p.padded_kernel.data(), p.padded_bias.data(), xs.data() + last * stride, stride,
            lone_weights.data(), stride, lone_pooled.data(), xf::simd_width, 1);
        BOOST_TEST(lone_pooled.data()[0] == pooled.data()[last * xf::simd_width]);
        for (std::size_t j = 0; j < N; ++j)
            BOOST_TEST(lone_weights.data()[j] == weights.data()[last * stride + j]);
    }
}

// The zero-skipping row against the reference and against the blocked product, which sums in the
// same order: equal results (== takes +0 and -0 as equal, the one difference allowed), for rows
// with many zeros, none, only zeros, and a NaN (which must reach every output).
template <std::size_t In, std::size_t Out>
struct layer_size {};

template <std::size_t In, std::size_t Out>
void check_dense_nonzero() {
    const dense_parameters p = random_dense<In, Out>(31);
    constexpr std::size_t rows = 4, x_stride = xf::padded(In), y_stride = xf::padded(Out);
    xt::xtensor<float, 2> x = reference::random_batch(rows, In, 32);
    for (std::size_t k = 0; k < In; ++k) {
        x(0, k) = k % 3 == 0 ? x(0, k) : 0.0f;       // two thirds zeros
        x(1, k) = x(1, k) == 0.0f ? 1.0f : x(1, k);  // none
        x(2, k) = k % 2 == 0 ? 0.0f : -0.0f;         // only zeros
    }
    const xf::aligned_buffer xs = padded_rows(x, x_stride);
    xf::aligned_buffer y(rows * y_stride), blocked(rows * y_stride);
    for (std::size_t r = 0; r < rows; ++r)
        xf::kernels::dense_nonzero_row<In, Out>(p.padded_kernel.data(), p.padded_bias.data(),
                                                xs.data() + r * x_stride, y.data() + r * y_stride);
    xf::kernels::dense_activation_rows<In, Out, xf::linear_t>(
        p.padded_kernel.data(), p.padded_bias.data(), xs.data(), x_stride, blocked.data(), y_stride,
        rows);
    const reference::matrix expected =
        reference::dense(reference::from_xtensor(x), p.kernel, p.bias);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < Out; ++j) {
            const float value = y.data()[r * y_stride + j];
            BOOST_TEST(value == blocked.data()[r * y_stride + j],
                       In << " -> " << Out << " row " << r << ": y[" << j << "] = " << value
                          << ", blocked " << blocked.data()[r * y_stride + j]);
            BOOST_TEST(std::abs(value - expected[r][j]) <= 2e-5 * (1.0 + std::abs(expected[r][j])),
                       In << " -> " << Out << " row " << r << ": y[" << j << "] = " << value
                          << ", expected " << expected[r][j]);
        }
    // A NaN among zeros reaches every output.
    xt::xtensor<float, 2> nan_row = xt::zeros<float>({std::size_t{1}, In});
    nan_row(0, In - 1) = not_a_number;
    const xf::aligned_buffer nan_x = padded_rows(nan_row, x_stride);
    xf::kernels::dense_nonzero_row<In, Out>(p.padded_kernel.data(), p.padded_bias.data(),
                                            nan_x.data(), y.data());
    for (std::size_t j = 0; j < Out; ++j)
        BOOST_TEST(std::isnan(y.data()[j]), In << " -> " << Out << ": y[" << j << "] not NaN");
}

}  // namespace

// SIMD tails in the inputs and the outputs, halves that split a register, a row wider than the
// registers' block, the seed model's attention and the widest the fused attention takes.
BOOST_AUTO_TEST_CASE(the_zero_skipping_row_matches_the_blocked_product) {
    [&]<std::size_t... In, std::size_t... Out>(layer_size<In, Out>...) {
        (check_dense_nonzero<In, Out>(), ...);
    }
    (layer_size<8, 8>{}, layer_size<17, 33>{}, layer_size<33, 17>{}, layer_size<40, 256>{},
     layer_size<96, 96>{}, layer_size<128, 100>{});
}

BOOST_AUTO_TEST_CASE(dense_matches_the_reference_on_every_blocking) {
    check_dense<10, 32, xf::relu_t>(relu);
    check_dense<20, 64, xf::relu_t>(relu);
    check_dense<96, 96, xf::linear_t>(identity);
    check_dense<33, 17, xf::relu_t>(relu);
    check_dense<40, 256, xf::linear_t>(identity);
}

BOOST_AUTO_TEST_CASE(a_single_unit_with_a_sigmoid) {
    check_dense<96, 1, xf::sigmoid_t>(sigmoid);
    check_dense<5, 1, xf::sigmoid_t>(sigmoid);
}

BOOST_AUTO_TEST_CASE(softmax_in_registers_and_over_a_stored_row) {
    check_dense<96, 96, xf::softmax_t>(softmax);
    check_dense<33, 17, xf::softmax_t>(softmax);
    check_dense<40, 256, xf::softmax_t>(softmax);
}

BOOST_AUTO_TEST_CASE(attention_matches_the_reference) {
    for_each_width<8, 17, 33, 96, 128>([]<std::size_t N>() {
        check_attention<N, false>();
        check_attention<N, true>();
    });
}

// The seed model's 96-wide attention fuses on every target: in registers where a block of 3
// rows fits them, through the logits row otherwise (16 registers).
BOOST_AUTO_TEST_CASE(the_seed_attention_fuses_on_every_target) {
    BOOST_TEST(xf::kernels::attention_fits_registers<96>);
    BOOST_TEST(xf::kernels::dense_blocking<96>::whole_row ==
               (xf::kernels::arch::registers >= 32 && xf::simd_width == 16));
}
