// Baseline: the attention model in Eigen 3.4, batched the way a good Eigen user writes it.
//
// Samples are columns, so every Dense is one GEMM (W X, with Eigen's own blocked, vectorised
// GEMM kernel), the bias a colwise broadcast, relu a cwiseMax, softmax a max-subtracted
// exponential normalised per column, the Dot a colwise sum of an elementwise product. Keras'
// (in, out) row-major kernel read as a column-major matrix is W (out x in), and a row-major
// (samples, features) batch read column-major is X (features x samples): no copy, no transpose.
// The products use noalias(); the hidden activations and the output live in buffers the model
// keeps between calls, so a timed call allocates nothing. Columns go through in blocks, so the
// (width x block) activations stay in L2 across the softmax's passes rather than streaming
// several MB through memory per pass.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cstddef>

#include "weights.hpp"

namespace bench {

class eigen_batched {
  public:
    // `block`: samples per pass through the layers; 0 means the whole batch at once.
    explicit eigen_batched(const attention_weights& w, std::size_t block = 512)
        : w1_(as_matrix(w.features1)),
          w2_(as_matrix(w.features2)),
          wa_(as_matrix(w.attention)),
          b1_(as_vector(w.features1)),
          b2_(as_vector(w.features2)),
          ba_(as_vector(w.attention)),
          wo_(w.output.kernel[0]),
          bo_(w.output.bias[0]),
          block_(block) {}

    Eigen::Index width() const noexcept { return wa_.rows(); }

    // a: (n, in1) and b: (n, in2) row-major; out: n model outputs.
    void predict(const float* a, const float* b, std::size_t n, float* out) {
        for_blocks(n, [&](std::size_t first, Eigen::Index count) {
            attention_into(a + first * w1_.cols(), b + first * w2_.cols(), count, alpha_);
            Eigen::Map<Eigen::RowVectorXf> y(out + first, count);
            y = (x_.array() * alpha_.array()).colwise().sum();
            y = (1.f + (-(y.array() * wo_ + bo_)).exp()).inverse().matrix();
        });
    }

    // The attention sub-model: out is (n, width) row-major, i.e. width x n column-major.
    void attention(const float* a, const float* b, std::size_t n, float* out) {
        for_blocks(n, [&](std::size_t first, Eigen::Index count) {
            Eigen::Map<Eigen::MatrixXf> alpha(out + first * width(), width(), count);
            attention_into(a + first * w1_.cols(), b + first * w2_.cols(), count, alpha);
        });
    }

  private:
    static Eigen::MatrixXf as_matrix(const dense_weights& d) {
        return Eigen::Map<const Eigen::MatrixXf>(d.kernel.data(), Eigen::Index(d.out),
                                                 Eigen::Index(d.in));
    }
    static Eigen::VectorXf as_vector(const dense_weights& d) {
        return Eigen::Map<const Eigen::VectorXf>(d.bias.data(), Eigen::Index(d.out));
    }

    template <class F>
    void for_blocks(std::size_t n, F f) {
        const std::size_t block = block_ == 0 ? std::max<std::size_t>(n, 1) : block_;
        for (std::size_t first = 0; first < n; first += block)
            f(first, Eigen::Index(std::min(block, n - first)));
    }

    // Features into x_, attention weights (softmax per column) into alpha.
    template <class Alpha>
    void attention_into(const float* a, const float* b, Eigen::Index n, Alpha& alpha) {
        Eigen::Map<const Eigen::MatrixXf> in1(a, w1_.cols(), n), in2(b, w2_.cols(), n);
        x_.resize(width(), n);
        alpha.resize(width(), n);
        auto x1 = x_.topRows(w1_.rows());
        auto x2 = x_.bottomRows(w2_.rows());
        x1.noalias() = w1_ * in1;
        x1 = (x1.colwise() + b1_).cwiseMax(0.f);
        x2.noalias() = w2_ * in2;
        x2 = (x2.colwise() + b2_).cwiseMax(0.f);
        alpha.noalias() = wa_ * x_;
        alpha.colwise() += ba_;
        // Evaluated into a row first: alpha is both read and written. The max is subtracted in
        // place so that the exp runs on a plain matrix, where Eigen vectorises it (in one
        // expression with the rowwise() broadcast Eigen calls the scalar expf per coefficient),
        // and the division is a diagonal product, vectorised too.
        column_stat_ = alpha.colwise().maxCoeff();
        alpha.rowwise() -= column_stat_;
        alpha = alpha.array().exp().matrix();
        column_stat_ = alpha.colwise().sum();
        alpha = alpha * column_stat_.cwiseInverse().asDiagonal();
    }

    Eigen::MatrixXf w1_, w2_, wa_;
    Eigen::VectorXf b1_, b2_, ba_;
    float wo_, bo_;
    std::size_t block_;
    Eigen::MatrixXf x_, alpha_;
    Eigen::RowVectorXf column_stat_;
};

}  // namespace bench
