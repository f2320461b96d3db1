// Baseline: the attention model in LibTorch (C++), one intra-op thread, inference mode. Only
// compiled where CMake finds Torch (Debian's libtorch-dev); XFUSE_BENCH_HAVE_TORCH says so.
//
// Samples are rows as in PyTorch: x W + b is at::addmm(b, x, kernel) with Keras' (in, out)
// kernel as is. Inputs are wrapped with at::from_blob (no copy); the output is copied once into
// the caller's buffer, as a user handing results on would.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "weights.hpp"

namespace bench {

class torch_model {
  public:
    explicit torch_model(const attention_weights& w)
        : k1_(kernel(w.features1)),
          k2_(kernel(w.features2)),
          ka_(kernel(w.attention)),
          ko_(kernel(w.output)),
          b1_(bias(w.features1)),
          b2_(bias(w.features2)),
          ba_(bias(w.attention)),
          bo_(bias(w.output)) {
        at::set_num_threads(1);
    }

    void predict(const float* a, const float* b, std::size_t n, float* out) const {
        c10::InferenceMode guard;
        at::Tensor x;
        const at::Tensor alpha = attention_of(a, b, n, x);
        const at::Tensor s = (x * alpha).sum(1, /*keepdim=*/true);
        copy_out(at::sigmoid(at::addmm(bo_, s, ko_)), out);
    }

    void attention(const float* a, const float* b, std::size_t n, float* out) const {
        c10::InferenceMode guard;
        at::Tensor x;
        copy_out(attention_of(a, b, n, x), out);
    }

  private:
    static at::Tensor wrap(const float* data, std::int64_t rows, std::int64_t cols) {
        return at::from_blob(const_cast<float*>(data), {rows, cols}, at::kFloat);
    }
    static at::Tensor kernel(const dense_weights& d) {
        return wrap(d.kernel.data(), std::int64_t(d.in), std::int64_t(d.out)).clone();
    }
    static at::Tensor bias(const dense_weights& d) {
        return wrap(d.bias.data(), 1, std::int64_t(d.out)).clone();
    }
    static void copy_out(const at::Tensor& t, float* out) {
        const at::Tensor c = t.contiguous();
        std::memcpy(out, c.data_ptr<float>(), std::size_t(c.numel()) * sizeof(float));
    }

    at::Tensor attention_of(const float* a, const float* b, std::size_t n, at::Tensor& x) const {
        const auto rows = std::int64_t(n);
        const at::Tensor in1 = wrap(a, rows, k1_.size(0)), in2 = wrap(b, rows, k2_.size(0));
        x = at::cat({at::relu(at::addmm(b1_, in1, k1_)), at::relu(at::addmm(b2_, in2, k2_))}, 1);
        return at::softmax(at::addmm(ba_, x, ka_), 1);
    }

    at::Tensor k1_, k2_, ka_, ko_, b1_, b2_, ba_, bo_;
};

}  // namespace bench
