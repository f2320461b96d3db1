// Baseline: the attention model in Eigen 3.4 with fixed-size matrices, one sample at a time.
//
// Every size is a template argument (Eigen::Matrix<float, 32, 10> and so on), so Eigen unrolls
// or picks its fixed-size product kernels and nothing touches the heap: what a good Eigen user
// writes for single-sample latency. Batches are a loop over samples. Keras' (in, out) row-major
// kernel is the column-major (out x in) W of y = W x + b, copied as is.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "weights.hpp"

namespace bench {

template <int In1, int In2, int Units1, int Units2>
class eigen_fixed {
  public:
    static constexpr int width = Units1 + Units2;
    using sample1 = Eigen::Matrix<float, In1, 1>;
    using sample2 = Eigen::Matrix<float, In2, 1>;
    using features = Eigen::Matrix<float, width, 1>;

    explicit eigen_fixed(const attention_weights& w) {
        if (w.features1.in != In1 || w.features1.out != Units1 || w.features2.in != In2 ||
            w.features2.out != Units2)
            throw std::invalid_argument("bench::eigen_fixed: weights of width " +
                                        std::to_string(w.width()) + " for a model of width " +
                                        std::to_string(width));
        load(w.features1, w1_, b1_);
        load(w.features2, w2_, b2_);
        load(w.attention, wa_, ba_);
        wo_ = w.output.kernel[0];
        bo_ = w.output.bias[0];
    }

    // The attention weights of one sample; `x` receives the concatenated features.
    features attention(const sample1& a, const sample2& b, features& x) const {
        x << (w1_ * a + b1_).cwiseMax(0.f), (w2_ * b + b2_).cwiseMax(0.f);
        features alpha = wa_ * x + ba_;
        alpha = (alpha.array() - alpha.maxCoeff()).exp();
        return alpha / alpha.sum();
    }

    float predict(const sample1& a, const sample2& b) const {
        features x;
        const features alpha = attention(a, b, x);
        return 1.f / (1.f + std::exp(-(x.dot(alpha) * wo_ + bo_)));
    }

    // Batches, row-major (n, In1) and (n, In2), one sample at a time.
    void predict(const float* a, const float* b, std::size_t n, float* out) const {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = predict(Eigen::Map<const sample1>(a + i * In1),
                             Eigen::Map<const sample2>(b + i * In2));
    }
    void attention(const float* a, const float* b, std::size_t n, float* out) const {
        features x;
        for (std::size_t i = 0; i < n; ++i)
            Eigen::Map<features>(out + i * width) = attention(
                Eigen::Map<const sample1>(a + i * In1), Eigen::Map<const sample2>(b + i * In2), x);
    }

  private:
    template <class Kernel, class Bias>
    static void load(const dense_weights& d, Kernel& kernel, Bias& bias) {
        kernel = Eigen::Map<const Kernel>(d.kernel.data());
        bias = Eigen::Map<const Bias>(d.bias.data());
    }

    Eigen::Matrix<float, Units1, In1> w1_;
    Eigen::Matrix<float, Units2, In2> w2_;
    Eigen::Matrix<float, width, width> wa_;
    Eigen::Matrix<float, Units1, 1> b1_;
    Eigen::Matrix<float, Units2, 1> b2_;
    features ba_;
    float wo_ = 0, bo_ = 0;
};

}  // namespace bench
