// Baseline: training the attention model in LibTorch (C++): the same epoch as
// eigen_training.hpp, with autograd for the backward pass and torch::optim::Adam, one intra-op
// thread. Only compiled where CMake finds Torch (Debian's libtorch-dev); XFUSE_BENCH_HAVE_TORCH
// says so.
//
// Samples are rows as in PyTorch: the batch is an index_select of the permuted rows (the gather),
// x W + b is at::addmm(b, x, kernel) with Keras' (in, out) kernel as is, and the loss is
// binary_cross_entropy_with_logits on the output Dense's pre-activation: Keras' logits path.
//
// PyTorch's Adam is not Keras' formula. PyTorch: w -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + e);
// Keras: w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + e). They agree when PyTorch's epsilon is
// Keras' divided by sqrt(1-b2^t), which changes with t, so no constant makes them equal on every
// step. The timed trainer uses Keras' value, 1e-7, in PyTorch's place: the same work, different
// steps only for parameters whose gradients are near 1e-6. The gate runs one step with
// keras_equivalent_epsilon(1), where the two formulas are the same.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "epoch_order.hpp"
#include "weights.hpp"

namespace bench {

class torch_training {
  public:
    // PyTorch's epsilon that makes its Adam step t equal to Keras' (Keras' defaults otherwise).
    static double keras_equivalent_epsilon(int t, double keras_epsilon = 1e-7,
                                           double beta_2 = 0.999) {
        return keras_epsilon / std::sqrt(1.0 - std::pow(beta_2, double(t)));
    }

    torch_training(const attention_weights& w, std::size_t batch_size, double epsilon = 1e-7)
        : batch_size_(batch_size), epsilon_(epsilon) {
        at::set_num_threads(1);
        reset(w);
    }

    // Weights from `w` and a new optimizer (zero moments, step 0).
    void reset(const attention_weights& w) {
        params_ = {kernel(w.features1), bias(w.features1), kernel(w.features2), bias(w.features2),
                   kernel(w.attention), bias(w.attention), kernel(w.output),    bias(w.output)};
        optimizer_ = std::make_unique<torch::optim::Adam>(
            params_, torch::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(epsilon_));
    }

    // One epoch, as eigen_training::epoch: a (n, in1), b (n, in2), y (n) row-major.
    double epoch(const float* a, const float* b, const float* y, std::size_t n,
                 std::optional<std::uint64_t> shuffle_seed) {
        epoch_order(order_, n, shuffle_seed);
        const auto rows = std::int64_t(n);
        const at::Tensor in1 = wrap(a, rows, params_[0].size(0));
        const at::Tensor in2 = wrap(b, rows, params_[2].size(0));
        const at::Tensor labels = wrap(y, rows, 1);
        const at::Tensor order = torch::from_blob(order_.data(), {rows}, torch::kLong);
        double weighted = 0;
        for (std::int64_t first = 0; first < rows; first += std::int64_t(batch_size_)) {
            const std::int64_t count = std::min(std::int64_t(batch_size_), rows - first);
            const at::Tensor index = order.slice(0, first, first + count);
            const at::Tensor x1 = in1.index_select(0, index), x2 = in2.index_select(0, index);
            const at::Tensor c = at::cat({at::relu(at::addmm(params_[1], x1, params_[0])),
                                          at::relu(at::addmm(params_[3], x2, params_[2]))},
                                         1);
            const at::Tensor alpha = at::softmax(at::addmm(params_[5], c, params_[4]), 1);
            const at::Tensor s = (c * alpha).sum(1, /*keepdim=*/true);
            const at::Tensor z = at::addmm(params_[7], s, params_[6]);
            const at::Tensor loss =
                at::binary_cross_entropy_with_logits(z, labels.index_select(0, index));
            optimizer_->zero_grad();
            loss.backward();
            optimizer_->step();
            weighted += loss.item<double>() * double(count);
        }
        return n ? weighted / double(n) : 0.0;
    }

    // The current weights in Keras' order and layout.
    attention_weights weights() const {
        return {read(params_[0], params_[1]), read(params_[2], params_[3]),
                read(params_[4], params_[5]), read(params_[6], params_[7])};
    }

  private:
    static at::Tensor wrap(const float* data, std::int64_t rows, std::int64_t cols) {
        return torch::from_blob(const_cast<float*>(data), {rows, cols}, torch::kFloat);
    }
    static at::Tensor kernel(const dense_weights& d) {
        return wrap(d.kernel.data(), std::int64_t(d.in), std::int64_t(d.out))
            .clone()
            .requires_grad_(true);
    }
    static at::Tensor bias(const dense_weights& d) {
        return torch::from_blob(const_cast<float*>(d.bias.data()), {std::int64_t(d.out)},
                                torch::kFloat)
            .clone()
            .requires_grad_(true);
    }
    static dense_weights read(const at::Tensor& kernel, const at::Tensor& bias) {
        const at::Tensor k = kernel.detach().contiguous(), b = bias.detach().contiguous();
        const float* kp = k.data_ptr<float>();
        const float* bp = b.data_ptr<float>();
        return {std::size_t(k.size(0)), std::size_t(k.size(1)),
                std::vector<float>(kp, kp + k.numel()), std::vector<float>(bp, bp + b.numel())};
    }

    std::size_t batch_size_;
    double epsilon_;
    std::vector<at::Tensor> params_;
    std::unique_ptr<torch::optim::Adam> optimizer_;
    std::vector<std::int64_t> order_;
};

}  // namespace bench
