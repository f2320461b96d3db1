// Baseline: training the attention model in Eigen 3.4 with a hand-written backward pass, as a
// good Eigen user writes it: what xfuse's fit() is timed against.
//
// One epoch is Keras' loop: a fresh permutation of the samples (or none), then per batch of 32
// a gather of the permuted rows into (features x batch) matrices (samples as columns, as in
// eigen_batched.hpp), the forward pass keeping what the backward pass needs, the loss and its
// gradient through the sigmoid's logits, the backward pass written out from
// keras-semantics.md's Appendix A formulas (GEMMs with noalias(), everything else as colwise /
// rowwise array expressions), and Keras' Adam on every parameter. Buffers live in the object,
// so a batch allocates nothing once the first one has sized them (the last, shorter batch
// resizes them twice per epoch).
//
// Keras' kernel (in, out) row-major is the column-major (out x in) W of y = W x + b, so weights
// are read and written back in Keras' layout without a transpose.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "epoch_order.hpp"
#include "weights.hpp"

namespace bench {

// Keras' Adam defaults (keras/optimizers/adam.py), in float as Keras keeps them.
struct keras_adam_settings {
    float learning_rate = 1e-3f, beta_1 = 0.9f, beta_2 = 0.999f, epsilon = 1e-7f;
};

class eigen_training {
  public:
    eigen_training(const attention_weights& w, std::size_t batch_size,
                   keras_adam_settings adam = {})
        : batch_size_(batch_size), adam_(adam) {
        reset(w);
    }

    // Weights from `w`, Adam's moments zero and its step count 0: a freshly compiled model.
    void reset(const attention_weights& w) {
        load(w1_, w.features1);
        load(w2_, w.features2);
        load(wa_, w.attention);
        load(wo_, w.output);
        step_ = 0;
    }

    // One epoch over n samples: a (n, in1), b (n, in2) and y (n) row-major; the samples in the
    // order of a permutation drawn from `shuffle_seed`, or in order without one. Returns the
    // epoch's loss (the batch-size-weighted mean of the batch losses, as Keras reports it).
    double epoch(const float* a, const float* b, const float* y, std::size_t n,
                 std::optional<std::uint64_t> shuffle_seed) {
        epoch_order(order_, n, shuffle_seed);
        double weighted = 0;
        for (std::size_t first = 0; first < n; first += batch_size_) {
            const std::size_t count = std::min(batch_size_, n - first);
            gather(a, b, y, first, Eigen::Index(count));
            weighted += forward_backward() * double(count);
            adam_step();
        }
        return n ? weighted / double(n) : 0.0;
    }

    // The current weights in Keras' order and layout.
    attention_weights weights() const { return {store(w1_), store(w2_), store(wa_), store(wo_)}; }

  private:
    // A Dense layer's kernel W (out x in) and bias, with their gradients and Adam's moments.
    struct dense_parameters {
        Eigen::MatrixXf w, dw, mw, vw;
        Eigen::VectorXf b, db, mb, vb;
    };

    static void load(dense_parameters& p, const dense_weights& d) {
        const auto out = Eigen::Index(d.out), in = Eigen::Index(d.in);
        p.w = Eigen::Map<const Eigen::MatrixXf>(d.kernel.data(), out, in);
        p.b = Eigen::Map<const Eigen::VectorXf>(d.bias.data(), out);
        p.dw.setZero(out, in);
        p.mw.setZero(out, in);
        p.vw.setZero(out, in);
        p.db.setZero(out);
        p.mb.setZero(out);
        p.vb.setZero(out);
    }
    static dense_weights store(const dense_parameters& p) {
        return {std::size_t(p.w.cols()), std::size_t(p.w.rows()),
                std::vector<float>(p.w.data(), p.w.data() + p.w.size()),
                std::vector<float>(p.b.data(), p.b.data() + p.b.size())};
    }

    // The batch's samples (the permutation's entries first .. first + count) as columns.
    void gather(const float* a, const float* b, const float* y, std::size_t first,
                Eigen::Index count) {
        const Eigen::Index in1 = w1_.w.cols(), in2 = w2_.w.cols();
        x1_.resize(in1, count);
        x2_.resize(in2, count);
        y_.resize(count);
        for (Eigen::Index j = 0; j < count; ++j) {
            const std::size_t row = order_[first + std::size_t(j)];
            x1_.col(j) = Eigen::Map<const Eigen::VectorXf>(a + row * std::size_t(in1), in1);
            x2_.col(j) = Eigen::Map<const Eigen::VectorXf>(b + row * std::size_t(in2), in2);
            y_(j) = y[row];
        }
    }

    // Forward, loss and backward on the gathered batch; the gradients land in d*. Appendix A,
    // transposed to samples as columns: h1 = W1 x1 + b1, c = [relu h1; relu h2], a = Wa c + ba,
    // al = softmax(a) per column, s = colsum(c .* al), z = wo s + bo.
    double forward_backward() {
        const Eigen::Index n = x1_.cols(), units1 = w1_.w.rows(), width = wa_.w.rows();
        h1_.noalias() = w1_.w * x1_;
        h1_.colwise() += w1_.b;
        h2_.noalias() = w2_.w * x2_;
        h2_.colwise() += w2_.b;
        c_.resize(width, n);
        c_.topRows(units1) = h1_.cwiseMax(0.f);
        c_.bottomRows(width - units1) = h2_.cwiseMax(0.f);
        al_.noalias() = wa_.w * c_;
        al_.colwise() += wa_.b;
        softmax_columns(al_, row_);
        s_ = (c_.array() * al_.array()).colwise().sum();
        const float wo = wo_.w(0, 0);
        z_ = (s_.array() * wo + wo_.b(0)).matrix();

        // Loss max(z,0) - z y + log1p(exp(-|z|)), mean over the batch; dz = (sigmoid(z) - y)/n.
        const auto z = z_.array();
        const auto y = y_.array();
        double loss = 0;  // 32 scalars: a loop (Eigen's packet log1p trips g++ 12's warnings)
        for (Eigen::Index j = 0; j < n; ++j)
            loss += std::max(z(j), 0.f) - z(j) * y(j) + std::log1p(std::exp(-std::abs(z(j))));
        loss /= double(n);
        dz_ = (((1.f + (-z).exp()).inverse() - y) / float(n)).matrix();

        // dWo = s.dz, dbo = sum dz, ds = dz wo; dc = ds al, dal = ds c;
        // da = al (dal - colsum(dal al)); dWa = da c^T, dba = rowsum da; dc += Wa^T da.
        wo_.dw(0, 0) = s_.dot(dz_);
        wo_.db(0) = dz_.sum();
        ds_ = dz_ * wo;
        // Per-column scalings as diagonal products, which Eigen vectorises (a rowwise()
        // broadcast in an expression makes it fall back to scalar code).
        dc_.noalias() = al_ * ds_.asDiagonal();
        dal_.noalias() = c_ * ds_.asDiagonal();
        row_ = dal_.cwiseProduct(al_).colwise().sum();
        da_ = al_.cwiseProduct(dal_) - al_ * row_.asDiagonal();
        wa_.dw.noalias() = da_ * c_.transpose();
        wa_.db = da_.rowwise().sum();
        dc_.noalias() += wa_.w.transpose() * da_;

        // dh = dc (h > 0) per feature layer; dW = dh x^T, db = rowsum dh.
        dh1_ = (h1_.array() > 0.f).select(dc_.topRows(units1), 0.f);
        w1_.dw.noalias() = dh1_ * x1_.transpose();
        w1_.db = dh1_.rowwise().sum();
        dh2_ = (h2_.array() > 0.f).select(dc_.bottomRows(width - units1), 0.f);
        w2_.dw.noalias() = dh2_ * x2_.transpose();
        w2_.db = dh2_.rowwise().sum();
        return loss;
    }

    // Softmax of every column, in place; `column` is scratch. The max is subtracted in place
    // first so that the exp runs on a plain matrix, where Eigen vectorises it (in one
    // expression with the rowwise() broadcast Eigen calls the scalar expf per coefficient).
    static void softmax_columns(Eigen::MatrixXf& m, Eigen::RowVectorXf& column) {
        column = m.colwise().maxCoeff();
        m.rowwise() -= column;
        m = m.array().exp().matrix();
        column = m.colwise().sum();
        m = m * column.cwiseInverse().asDiagonal();
    }

    // Keras' Adam: t = step + 1, alpha = lr sqrt(1 - b2^t) / (1 - b1^t),
    // m += (g - m)(1 - b1), v += (g^2 - v)(1 - b2), w -= alpha m / (sqrt(v) + epsilon).
    void adam_step() {
        ++step_;
        const float t = float(step_);
        const float alpha = adam_.learning_rate * std::sqrt(1.f - std::pow(adam_.beta_2, t)) /
                            (1.f - std::pow(adam_.beta_1, t));
        const float one_minus_b1 = 1.f - adam_.beta_1, one_minus_b2 = 1.f - adam_.beta_2;
        const auto update = [&](auto& w, const auto& g, auto& m, auto& v) {
            m.array() += (g.array() - m.array()) * one_minus_b1;
            v.array() += (g.array().square() - v.array()) * one_minus_b2;
            w.array() -= m.array() * alpha / (v.array().sqrt() + adam_.epsilon);
        };
        for (dense_parameters* p : std::array{&w1_, &w2_, &wa_, &wo_}) {
            update(p->w, p->dw, p->mw, p->vw);
            update(p->b, p->db, p->mb, p->vb);
        }
    }

    std::size_t batch_size_;
    keras_adam_settings adam_;
    dense_parameters w1_, w2_, wa_, wo_;
    std::int64_t step_ = 0;
    std::vector<std::size_t> order_;
    // The batch (samples as columns) and what the backward pass reads.
    Eigen::MatrixXf x1_, x2_, h1_, h2_, c_, al_, dc_, dal_, da_, dh1_, dh2_;
    Eigen::RowVectorXf y_, s_, z_, dz_, ds_, row_;
};

}  // namespace bench
