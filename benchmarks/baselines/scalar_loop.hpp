// Baseline: the attention model as plain loops over std::vector<float>, what someone writes by
// hand without a library: for each sample, for each output unit, a dot product over the inputs
// (weights stored output-major so that dot product reads memory in order). No intrinsics and no
// tricks; whatever the compiler's auto-vectoriser makes of it at -O3 -march=native is its speed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "weights.hpp"

namespace bench {

class scalar_loop {
  public:
    explicit scalar_loop(const attention_weights& w)
        : l1_(transposed(w.features1)),
          l2_(transposed(w.features2)),
          la_(transposed(w.attention)),
          wo_(w.output.kernel[0]),
          bo_(w.output.bias[0]),
          x_(w.width()),
          alpha_(w.width()) {}

    // a: (n, in1) and b: (n, in2) row-major; out: n model outputs.
    void predict(const float* a, const float* b, std::size_t n, float* out) {
        for (std::size_t s = 0; s < n; ++s) {
            attention_of(a + s * l1_.in, b + s * l2_.in, alpha_.data());
            float dot = 0;
            for (std::size_t j = 0; j < x_.size(); ++j)
                dot += x_[j] * alpha_[j];
            out[s] = 1.f / (1.f + std::exp(-(dot * wo_ + bo_)));
        }
    }

    // The attention sub-model: out is (n, width) row-major.
    void attention(const float* a, const float* b, std::size_t n, float* out) {
        for (std::size_t s = 0; s < n; ++s)
            attention_of(a + s * l1_.in, b + s * l2_.in, out + s * x_.size());
    }

  private:
    struct layer {
        std::size_t in, out;
        std::vector<float> weights;  // (out, in) row-major
        std::vector<float> bias;
    };

    static layer transposed(const dense_weights& d) {
        layer l{d.in, d.out, std::vector<float>(d.in * d.out), d.bias};
        for (std::size_t i = 0; i < d.in; ++i)
            for (std::size_t j = 0; j < d.out; ++j)
                l.weights[j * d.in + i] = d.kernel[i * d.out + j];
        return l;
    }

    static void dense(const layer& l, const float* in, float* out, bool relu) {
        for (std::size_t j = 0; j < l.out; ++j) {
            float sum = l.bias[j];
            for (std::size_t i = 0; i < l.in; ++i)
                sum += l.weights[j * l.in + i] * in[i];
            out[j] = relu ? std::max(sum, 0.f) : sum;
        }
    }

    // Features of one sample into x_, its attention weights into alpha.
    void attention_of(const float* a, const float* b, float* alpha) {
        dense(l1_, a, x_.data(), true);
        dense(l2_, b, x_.data() + l1_.out, true);
        dense(la_, x_.data(), alpha, false);
        const float top = *std::max_element(alpha, alpha + la_.out);
        float sum = 0;
        for (std::size_t j = 0; j < la_.out; ++j)
            sum += (alpha[j] = std::exp(alpha[j] - top));
        for (std::size_t j = 0; j < la_.out; ++j)
            alpha[j] /= sum;
    }

    layer l1_, l2_, la_;
    float wo_, bo_;
    std::vector<float> x_, alpha_;
};

}  // namespace bench
