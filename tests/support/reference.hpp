// Independent double-precision references for the tests: plain scalar loops over unpadded,
// row-major data, written from Keras' formulas, sharing no code with the library's kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace reference {

using matrix = std::vector<std::vector<double>>;  // rows of features

inline matrix from_xtensor(const xt::xtensor<float, 2>& t) {
    matrix m(t.shape(0), std::vector<double>(t.shape(1)));
    for (std::size_t i = 0; i < t.shape(0); ++i)
        for (std::size_t j = 0; j < t.shape(1); ++j)
            m[i][j] = t(i, j);
    return m;
}

// y = x W + b, W given as Keras' (in, out) kernel.
inline matrix dense(const matrix& x, const xt::xarray<float>& kernel,
                    const xt::xarray<float>& bias) {
    const std::size_t in = kernel.shape()[0], out = kernel.shape()[1];
    matrix y(x.size(), std::vector<double>(out));
    for (std::size_t r = 0; r < x.size(); ++r)
        for (std::size_t j = 0; j < out; ++j) {
            double sum = bias.size() ? double(bias(j)) : 0.0;
            for (std::size_t i = 0; i < in; ++i)
                sum += x[r][i] * double(kernel(i, j));
            y[r][j] = sum;
        }
    return y;
}

template <class F>
matrix map(matrix m, F f) {
    for (auto& row : m)
        for (double& v : row)
            v = f(v);
    return m;
}

inline matrix relu(matrix m) {
    return map(std::move(m), [](double v) { return v > 0 ? v : 0.0; });
}
inline matrix sigmoid(matrix m) {
    return map(std::move(m), [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}
inline void softmax_row(std::vector<double>& row) {
    const double top = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (double& v : row)
        sum += (v = std::exp(v - top));
    for (double& v : row)
        v /= sum;
}
inline matrix softmax(matrix m) {
    for (auto& row : m)
        softmax_row(row);
    return m;
}

inline matrix concatenate(const matrix& a, const matrix& b) {
    matrix c = a;
    for (std::size_t r = 0; r < a.size(); ++r)
        c[r].insert(c[r].end(), b[r].begin(), b[r].end());
    return c;
}

inline matrix row_dot(const matrix& a, const matrix& b) {
    matrix d(a.size(), std::vector<double>(1));
    for (std::size_t r = 0; r < a.size(); ++r)
        for (std::size_t j = 0; j < a[r].size(); ++j)
            d[r][0] += a[r][j] * b[r][j];
    return d;
}

// Largest |a - b| over all entries.
inline double max_abs_difference(const xt::xtensor<float, 2>& actual, const matrix& expected) {
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
        for (std::size_t j = 0; j < expected[i].size(); ++j)
            worst = std::max(worst, std::abs(double(actual(i, j)) - expected[i][j]));
    return worst;
}

inline xt::xtensor<float, 2> random_batch(std::size_t rows, std::size_t cols, unsigned seed,
                                          float scale = 1.0f) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    xt::xtensor<float, 2> t({rows, cols});
    for (float& v : t)
        v = normal(engine);
    return t;
}

}  // namespace reference
