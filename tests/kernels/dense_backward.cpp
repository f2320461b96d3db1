#define BOOST_TEST_MODULE kernels_dense_backward
#include <boost/test/unit_test.hpp>

#include <xfuse/kernels/aligned_buffer.hpp>
#include <xfuse/kernels/dense_backward.hpp>
#include <xfuse/kernels/transpose.hpp>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

// The Dense backward kernel against a scalar double-precision loop, for the batch sizes that
// take each of its routes: dx through the transposed kernel (8 rows or more, a whole tile and a
// partial one) and through one reduction per feature (fewer rows), at widths that are and are
// not whole SIMD registers.

namespace xf = xfuse;

namespace {

// Random values in the logical lanes of `rows` rows of `cols` floats, `stride` apart; the
// padding lanes hold `padding`.
xf::aligned_buffer random_rows(std::size_t rows, std::size_t cols, std::size_t stride,
                               unsigned seed, float padding = 0.0f) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    xf::aligned_buffer result(rows * stride);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < stride; ++c)
            result.data()[r * stride + c] = c < cols ? value(engine) : padding;
    return result;
}

template <std::size_t In, std::size_t Out>
void check_backward(std::size_t rows) {
    constexpr std::size_t in_stride = xf::padded(In), out_stride = xf::padded(Out);
    const xf::aligned_buffer kernel = random_rows(In, Out, out_stride, 1);
    const xf::aligned_buffer x = random_rows(rows, In, in_stride, 2);
    const xf::aligned_buffer dz = random_rows(rows, Out, out_stride, 3);
    // The kernel accumulates: start every gradient from known non-zero values.
    xf::aligned_buffer kernel_grad = random_rows(In, Out, out_stride, 4);
    xf::aligned_buffer bias_grad = random_rows(1, Out, out_stride, 5);
    xf::aligned_buffer x_grad = random_rows(rows, In, in_stride, 6);
    const xf::aligned_buffer kernel_grad_0 = kernel_grad, bias_grad_0 = bias_grad,
                             x_grad_0 = x_grad;

    xf::kernels::dense_backward<In, Out>(
        kernel.data(), kernel_grad.data(), bias_grad.data(), x.data(), x_grad.data(), rows,
        [&](std::size_t first, std::size_t count, float* tile) {
            std::copy_n(dz.data() + first * out_stride, count * out_stride, tile);
        });

    const auto near = [](double got, double expected) {
        return std::abs(got - expected) <= 1e-5 * (1.0 + std::abs(expected));
    };
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t j = 0; j < Out; ++j) {
            double expected = kernel_grad_0.data()[i * out_stride + j];
            for (std::size_t r = 0; r < rows; ++r)
                expected += double(x.data()[r * in_stride + i]) * dz.data()[r * out_stride + j];
            BOOST_TEST(near(kernel_grad.data()[i * out_stride + j], expected),
                       "dW[" << i << ", " << j << "] = " << kernel_grad.data()[i * out_stride + j]
                             << ", expected " << expected);
        }
    for (std::size_t j = 0; j < Out; ++j) {
        double expected = bias_grad_0.data()[j];
        for (std::size_t r = 0; r < rows; ++r)
            expected += dz.data()[r * out_stride + j];
        BOOST_TEST(near(bias_grad.data()[j], expected));
    }
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < in_stride; ++i) {
            double expected = x_grad_0.data()[r * in_stride + i];
            if (i < In)
                for (std::size_t j = 0; j < Out; ++j)
                    expected +=
                        double(dz.data()[r * out_stride + j]) * kernel.data()[i * out_stride + j];
            // Padding lanes of dx stay as they were (0 + nothing).
            BOOST_TEST(near(x_grad.data()[r * in_stride + i], expected),
                       "dx[" << r << ", " << i << "] = " << x_grad.data()[r * in_stride + i]
                             << ", expected " << expected);
        }
    // Padding lanes of dW and db receive nothing (dz's padding lanes are 0).
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t j = Out; j < out_stride; ++j)
            BOOST_TEST(kernel_grad.data()[i * out_stride + j] ==
                       kernel_grad_0.data()[i * out_stride + j]);
}

template <std::size_t Rows, std::size_t Cols>
void check_transpose() {
    constexpr std::size_t stride = xf::padded(Cols), stride_t = xf::padded(Rows);
    const xf::aligned_buffer kernel = random_rows(Rows, Cols, stride, 7, 0.0f);
    xf::aligned_buffer kernel_t = random_rows(stride, stride_t, stride_t, 8, 99.0f);
    xf::kernels::transpose_padded<Rows, Cols>(kernel.data(), kernel_t.data());
    for (std::size_t j = 0; j < stride; ++j)
        for (std::size_t i = 0; i < stride_t; ++i) {
            const float expected = i < Rows ? kernel.data()[i * stride + j] : 0.0f;
            BOOST_TEST(kernel_t.data()[j * stride_t + i] == expected,
                       "(" << Rows << " x " << Cols << ")^T[" << j << ", " << i << "]");
        }
}

}  // namespace

BOOST_AUTO_TEST_CASE(transpose_of_padded_matrices) {
    check_transpose<1, 1>();
    check_transpose<16, 16>();
    check_transpose<17, 40>();
    check_transpose<33, 17>();
    check_transpose<96, 96>();
    check_transpose<10, 32>();
}

BOOST_AUTO_TEST_CASE(matches_a_scalar_loop_on_every_route) {
    for (const std::size_t rows : {1, 3, 7, 8, 9, 16, 17, 33}) {
        BOOST_TEST_CONTEXT("rows " << rows) {
            check_backward<96, 96>(rows);
            check_backward<17, 33>(rows);
            check_backward<33, 7>(rows);
            check_backward<10, 32>(rows);
            check_backward<1, 1>(rows);
        }
    }
}
