// Baseline: the Transformer classifier (benchmarks/transformer_model.hpp) in LibTorch (C++), one
// intra-op thread: predict under inference mode, and one training step with autograd and
// torch::optim::Adam. Only compiled where CMake finds Torch (Debian's libtorch-dev);
// XFUSE_BENCH_HAVE_TORCH says so.
//
// The parameters are xfuse's get_weights(), in Keras' order and shapes, as tensors: token and
// position embeddings, MultiHeadAttention's query/key/value kernels (D, H, K) and biases (H, K),
// its output kernel (H, K, D) and bias (D), LayerNormalization's gamma and beta, the Dense
// kernels (in, out) and biases. Keras' MultiHeadAttention math per head: the query projection
// scaled by 1/sqrt(K) before q kT, a softmax over the key steps, (p v) through the output
// kernel. Each projection is one (N T, D) x (D, H K) product, the heads then batched matmuls.
// Without dropout: the benchmark runs both sides at rate 0 (benchmarks/README.md).
//
// Token ids arrive as xfuse takes them, floats; the conversion to int64 is part of every call.
// PyTorch's Adam places epsilon differently from Keras' (torch_training.hpp explains it); the
// epsilon is a constructor argument so that the gate can match Keras' first step.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

namespace bench {

class torch_transformer {
  public:
    // Keras' order of the classifier's 22 weight arrays.
    enum : std::size_t {
        token_table,
        position_table,
        query_kernel,
        query_bias,
        key_kernel,
        key_bias,
        value_kernel,
        value_bias,
        output_kernel,
        output_bias,
        norm1_gamma,
        norm1_beta,
        ff1_kernel,
        ff1_bias,
        ff2_kernel,
        ff2_bias,
        norm2_gamma,
        norm2_beta,
        hidden_kernel,
        hidden_bias,
        head_kernel,
        head_bias,
        weight_count
    };

    torch_transformer(const std::vector<xt::xarray<float>>& weights, double adam_epsilon = 1e-7)
        : epsilon_(adam_epsilon) {
        at::set_num_threads(1);
        reset(weights);
    }

    // Weights from `weights` and a new optimizer (zero moments, step 0).
    void reset(const std::vector<xt::xarray<float>>& weights) {
        if (weights.size() != weight_count)
            throw std::invalid_argument(
                "bench: the Transformer classifier has 22 weight arrays, got " +
                std::to_string(weights.size()));
        params_.clear();
        for (const auto& w : weights) {
            std::vector<std::int64_t> shape(w.shape().begin(), w.shape().end());
            params_.push_back(torch::from_blob(const_cast<float*>(w.data()), shape, torch::kFloat)
                                  .clone()
                                  .requires_grad_(true));
        }
        optimizer_ = std::make_unique<torch::optim::Adam>(
            params_, torch::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(epsilon_));
    }

    // Class probabilities of n samples of token ids (n, T) into out (n, classes).
    void predict(const float* tokens, std::size_t n, float* out) const {
        c10::InferenceMode guard;
        const at::Tensor p = at::softmax(logits(ids(tokens, n)), 1).contiguous();
        std::memcpy(out, p.data_ptr<float>(), std::size_t(p.numel()) * sizeof(float));
    }

    // One step on n samples with class labels y (n): forward, sparse categorical crossentropy
    // (the mean over the samples), backward, Adam. Returns the loss.
    double train_step(const float* tokens, const float* y, std::size_t n) {
        const at::Tensor labels =
            torch::from_blob(const_cast<float*>(y), {std::int64_t(n)}, torch::kFloat)
                .to(torch::kLong);
        const at::Tensor loss = at::nll_loss(at::log_softmax(logits(ids(tokens, n)), 1), labels);
        optimizer_->zero_grad();
        loss.backward();
        optimizer_->step();
        return loss.item<double>();
    }

    // The current weights in Keras' order and shapes.
    std::vector<xt::xarray<float>> weights() const {
        std::vector<xt::xarray<float>> out;
        for (const at::Tensor& p : params_) {
            const at::Tensor c = p.detach().contiguous();
            std::vector<std::size_t> shape(c.sizes().begin(), c.sizes().end());
            xt::xarray<float> w(shape);
            std::memcpy(w.data(), c.data_ptr<float>(), std::size_t(c.numel()) * sizeof(float));
            out.push_back(std::move(w));
        }
        return out;
    }

  private:
    at::Tensor ids(const float* tokens, std::size_t n) const {
        const auto steps = params_[position_table].size(0);
        return torch::from_blob(const_cast<float*>(tokens), {std::int64_t(n), steps}, torch::kFloat)
            .to(torch::kLong);
    }

    // x (rows, in) W + b for a kernel of any rank whose first axis is `in`.
    static at::Tensor project(const at::Tensor& x, const at::Tensor& kernel,
                              const at::Tensor& bias) {
        return at::addmm(bias.reshape({-1}), x, kernel.reshape({x.size(1), -1}));
    }

    // The pre-softmax outputs (n, classes) of the token ids (n, T).
    at::Tensor logits(const at::Tensor& ids) const {
        const auto& p = params_;
        const std::int64_t n = ids.size(0), t = ids.size(1), d = p[token_table].size(1);
        const std::int64_t h = p[query_bias].size(0), k = p[query_bias].size(1);
        // (n T, D): token plus position embeddings.
        const at::Tensor x =
            (at::embedding(p[token_table], ids) + p[position_table]).reshape({n * t, d});
        // (n, H, T, K) per projection; the query scaled before the product.
        const auto heads = [&](const at::Tensor& kernel, const at::Tensor& bias) {
            return project(x, kernel, bias).view({n, t, h, k}).transpose(1, 2);
        };
        const at::Tensor q = heads(p[query_kernel], p[query_bias]) * (1.0 / std::sqrt(double(k)));
        const at::Tensor keys = heads(p[key_kernel], p[key_bias]);
        const at::Tensor values = heads(p[value_kernel], p[value_bias]);
        const at::Tensor probabilities = at::softmax(at::matmul(q, keys.transpose(2, 3)), 3);
        const at::Tensor context =
            at::matmul(probabilities, values).transpose(1, 2).reshape({n * t, h * k});
        const at::Tensor attention = project(context, p[output_kernel], p[output_bias]);
        const at::Tensor x1 =
            at::layer_norm(x + attention, {d}, p[norm1_gamma], p[norm1_beta], 1e-6);
        const at::Tensor f =
            project(at::relu(project(x1, p[ff1_kernel], p[ff1_bias])), p[ff2_kernel], p[ff2_bias]);
        const at::Tensor x2 = at::layer_norm(x1 + f, {d}, p[norm2_gamma], p[norm2_beta], 1e-6);
        const at::Tensor pooled = x2.view({n, t, d}).mean(1);
        const at::Tensor hidden = at::relu(project(pooled, p[hidden_kernel], p[hidden_bias]));
        return project(hidden, p[head_kernel], p[head_bias]);
    }

    double epsilon_;
    std::vector<at::Tensor> params_;
    std::unique_ptr<torch::optim::Adam> optimizer_;
};

}  // namespace bench
