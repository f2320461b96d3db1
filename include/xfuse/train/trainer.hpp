// The training loop behind Model::fit and Model::evaluate, with Keras' semantics: batches of
// batch_size with the last partial batch kept, a fresh permutation every epoch, validation on the
// last rows (split before shuffling), the displayed loss the batch-size-weighted mean of the step
// losses (each computed before its update), val_* after the epoch with the final weights.
//
// An output of any rank: a sample of shape (..., C) is its positions' rows of C values (one row for
// a rank-1 output), and the loss and the metrics see the batch as those rows, Keras' reduction over
// every position (train/losses.hpp).
//
// One step on a batch: the plain forward plan (it keeps every node's output), the loss and its
// gradient, the backward plan (fused attention backward by default), one optimizer pass per
// contiguous run of parameters (one for a model that owns its weights). When the output is a
// sigmoid (softmax) Dense and the loss a binary (categorical) crossentropy, the loss is computed
// from the output's pre-activation and its gradient enters the backward pass there, as Keras'
// `_keras_logits`: the stable max(z,0) - z*y + log1p(exp(-|z|)), never clipped. Which outputs
// qualify is the logits rule of exec/fusion_rules.hpp, read from the layer's declared kind.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "../exec/backward.hpp"
#include "../exec/fused_plan.hpp"
#include "../exec/padded_rows.hpp"
#include "../exec/plan.hpp"
#include "../graph/layer_bindings.hpp"
#include "../kernels/aligned_buffer.hpp"
#include "../kernels/dense.hpp"
#include "../layers/layer_kinds.hpp"
#include "callbacks.hpp"
#include "fit_options.hpp"
#include "history.hpp"
#include "logs.hpp"
#include "losses.hpp"
#include "metrics.hpp"
#include "optimizers.hpp"
#include "parameter_runs.hpp"
#include "progress_bar.hpp"

namespace xfuse {

// What compile() records.
struct training_config {
    any_optimizer optimizer;
    any_loss loss;
    metric_list metrics;
};

// A training set as the trainer reads it: one row-major float block per model input (rows of
// the input's logical size, samples one after the other) and the labels: per sample, one row of
// label_cols per position of the output (label_rows rows).
template <std::size_t InputCount>
struct training_data {
    std::array<const float*, InputCount> inputs;
    const float* labels;
    std::size_t label_cols;
    std::size_t label_rows = 1;
    std::size_t samples;

    std::size_t labels_per_sample() const noexcept { return label_rows * label_cols; }
};

namespace detail {

// Whether the loss takes the output's pre-activation (Keras' recovered logits): the output
// satisfies the logits rule (exec/fusion_rules.hpp) and its activation is the loss's own.
template <class Graph, class Loss>
constexpr bool uses_logits_path(const Loss& loss) {
    using output = at_t<0, typename Graph::outputs>;
    if constexpr (!fusion_of<Graph>.logits_output[Graph::template node_index<output>])
        return false;
    else if constexpr (std::is_same_v<Loss, BinaryCrossentropy>)
        return AppliesActivation<typename output::layer_type, sigmoid_t> && !loss.from_logits;
    else if constexpr (std::is_same_v<Loss, CategoricalCrossentropy> ||
                       std::is_same_v<Loss, SparseCategoricalCrossentropy>)
        return AppliesActivation<typename output::layer_type, softmax_t> && !loss.from_logits;
    else
        return false;
}

template <class Loss>
constexpr bool loss_is_from_logits(const Loss& loss) {
    if constexpr (requires { loss.from_logits; })
        return loss.from_logits;
    else
        return false;
}

}  // namespace detail

template <class Graph>
class trainer {
  public:
    static constexpr std::size_t layer_count = Graph::layer_count;
    static constexpr std::size_t input_count = Graph::inputs::size;
    using output = at_t<0, typename Graph::outputs>;
    using output_shape = typename output::shape_type;
    using output_layer = typename output::layer_type;
    using forward = forward_plan<Graph>;
    static_assert(Graph::outputs::size == 1,
                  "xfuse: fit and evaluate take models with one output (one loss)");
    // Rows of the output per sample: the positions the loss and the metrics average over.
    static constexpr std::size_t output_rows = output_shape::rows;

    trainer(const layer_bindings<Graph>& layers, training_config& config,
            std::vector<optimizer_state>& states, std::size_t batch_size)
        : layers_(layers),
          config_(config),
          states_(states),
          batch_size_(batch_size),
          scratch_(batch_size * forward::sample_storage),
          gradient_scratch_(batch_size * forward::sample_storage),
          preactivation_(batch_size * output_shape::storage),
          labels_(batch_size * output_shape::size) {
        std::size_t offset = 0;
        for (std::size_t l = 0; l < layer_count; ++l) {
            grad_offsets_[l] = offset;
            offset += storage_of(l);
        }
        grads_ = aligned_buffer(std::max<std::size_t>(offset, 1));
        for (std::size_t l = 0; l < layer_count; ++l)
            grad_pointers_[l] = storage_of(l) ? grads_.data() + grad_offsets_[l] : nullptr;
        runs_ = detail::parameter_runs<Graph>(layers_.weights);
    }

    // Creates the optimizer's slots, zeroed, unless slots that fit the parameter runs exist:
    // they persist across fit() calls, as a Keras optimizer's do. For fit only (before the first
    // train_batch): evaluating a model leaves its optimizer state as it was.
    void prepare_optimizer_states() {
        bool fits = states_.size() == runs_.size();
        for (std::size_t i = 0; fits && i < runs_.size(); ++i)
            fits = states_[i].size == runs_[i].size;
        if (!fits) {
            states_.clear();
            for (const detail::parameter_run& r : runs_)
                states_.push_back(make_state(config_.optimizer, r.size));
        }
    }

    // The keys of the epoch's random decisions (Dropout's masks): the run's seed and the epoch.
    void begin_epoch(std::uint64_t seed, std::uint64_t epoch) noexcept {
        layers_.context.seed = seed;
        layers_.context.epoch = epoch;
    }

    // One optimizer step on the samples `rows` of `data`; returns the batch's loss.
    template <class Fusion = default_fusion_t>
    double train_batch(const training_data<input_count>& data, std::span<const std::size_t> rows) {
        load_batch(data, rows);
        const std::size_t count = rows.size();
        const training_step in_training(layers_.context, rows.data());
        forward::run(layers_, scratch_.data(), count);
        std::memset(grads_.data(), 0, grads_.size() * sizeof(float));
        const double loss = std::visit(
            [&](const auto& loss_config) {
                return loss_and_backward<Fusion>(loss_config, data.label_cols, count);
            },
            config_.loss);
        for (std::size_t r = 0; r < runs_.size(); ++r)
            step(config_.optimizer, states_[r], runs_[r].first,
                 grads_.data() + grad_offsets_[runs_[r].first_layer], runs_[r].size);
        config_.metrics.update(output_batch(data.label_cols, count));
        return loss;
    }

    // The batch's loss and metrics without a step (evaluate, validation).
    double test_batch(const training_data<input_count>& data, std::span<const std::size_t> rows) {
        load_batch(data, rows);
        const std::size_t count = rows.size();
        execution_plan_t<Graph, default_fusion_t>::run(layers_, scratch_.data(), count);
        const double loss = std::visit(
            [&](const auto& loss_config) {
                const loss_batch batch = loss_input_batch(loss_config, data.label_cols, count);
                return loss_value(loss_config, batch, input_kind(loss_config));
            },
            config_.loss);
        config_.metrics.update(output_batch(data.label_cols, count));
        return loss;
    }

    std::size_t batch_size() const noexcept { return batch_size_; }

  private:
    // The context of the plans' calls during one training step; predict's again after it.
    class training_step {
      public:
        training_step(call_context& context, const std::size_t* sample_ids) noexcept
            : context_(context) {
            context_.training = true;
            context_.sample_ids = sample_ids;
        }
        ~training_step() {
            context_.training = false;
            context_.sample_ids = nullptr;
        }
        training_step(const training_step&) = delete;
        training_step& operator=(const training_step&) = delete;

      private:
        call_context& context_;
    };

  private:
    static constexpr std::size_t storage_of(std::size_t layer) {
        return [&]<std::size_t... L>(std::index_sequence<L...>) {
            constexpr std::array<std::size_t, layer_count> storage{
                Graph::template storage_of_layer<L>...};
            return storage[layer];
        }
        (std::make_index_sequence<layer_count>{});
    }

    void load_batch(const training_data<input_count>& data, std::span<const std::size_t> rows) {
        const std::size_t count = rows.size();
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (gather<at_t<I, typename Graph::inputs>>(data.inputs[I], rows), ...);
        }
        (std::make_index_sequence<input_count>{});
        const std::size_t per_sample = data.labels_per_sample();
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(data.labels + rows[r] * per_sample, per_sample,
                        labels_.data() + r * per_sample);
    }

    template <class Input>
    void gather(const float* source, std::span<const std::size_t> rows) {
        using shape = typename Input::shape_type;
        float* destination = forward::template buffer<Input>(scratch_.data(), rows.size());
        for (std::size_t r = 0; r < rows.size(); ++r)
            detail::pad_samples<shape>(source + rows[r] * shape::size, 1,
                                       destination + r * shape::storage);
    }

    // The output as the metrics see it: probabilities (the model's output values), one row per
    // position of every sample (a sample's rows are consecutive in both buffers).
    loss_batch output_batch(std::size_t label_cols, std::size_t count) const {
        return {labels_.data(),
                label_cols,
                label_cols,
                forward::template buffer<output>(const_cast<float*>(scratch_.data()), count),
                output_shape::last,
                output_shape::row_stride,
                count * output_rows};
    }

    template <class Loss>
    loss_input input_kind(const Loss& loss) const {
        return detail::uses_logits_path<Graph>(loss) || detail::loss_is_from_logits(loss)
                   ? loss_input::logits
                   : loss_input::probabilities;
    }

    // What the loss reads: the output, or the pre-activation of a sigmoid/softmax output: an
    // activation layer's input, or a Dense's recomputed from its input (one small product).
    template <class Loss>
    loss_batch loss_input_batch(const Loss& loss, std::size_t label_cols, std::size_t count) {
        loss_batch batch = output_batch(label_cols, count);
        if constexpr (ActivationLayer<output_layer>) {
            if (detail::uses_logits_path<Graph>(loss))
                batch.predictions = forward::template buffer<at_t<0, typename output::inputs>>(
                    scratch_.data(), count);
        } else if constexpr (DenseLayer<output_layer>) {
            if (detail::uses_logits_path<Graph>(loss)) {
                using kind = typename output_layer::layer_kind;
                using input = at_t<0, typename output::inputs>;
                constexpr std::size_t in = input::shape_type::last;
                const auto p = kind::template params<in>(static_cast<const float*>(
                    layers_.weights[Graph::template layer_index<output_layer>]));
                kernels::dense_rows<in, kind::units>(
                    p.kernel, p.bias, forward::template buffer<input>(scratch_.data(), count),
                    preactivation_.data(), count * output_rows);
                batch.predictions = preactivation_.data();
            }
        }
        return batch;
    }

    template <class Fusion, class Loss>
    double loss_and_backward(const Loss& loss_config, std::size_t label_cols, std::size_t count) {
        const loss_batch batch = loss_input_batch(loss_config, label_cols, count);
        float* output_gradient_buffer =
            forward::template buffer<output>(gradient_scratch_.data(), count);
        const double loss = loss_and_gradient(loss_config, batch, output_gradient_buffer,
                                              output_shape::row_stride, input_kind(loss_config));
        if (detail::uses_logits_path<Graph>(loss_config))
            backward_plan<Graph, Fusion, output_gradient::logits>::run(
                layers_, grad_pointers_, scratch_.data(), gradient_scratch_.data(), count);
        else
            backward_plan<Graph, Fusion, output_gradient::activation>::run(
                layers_, grad_pointers_, scratch_.data(), gradient_scratch_.data(), count);
        return loss;
    }

    layer_bindings<Graph> layers_;  // a copy: its context is the step's
    training_config& config_;
    std::vector<optimizer_state>& states_;
    std::size_t batch_size_;
    aligned_buffer scratch_;
    aligned_buffer gradient_scratch_;
    aligned_buffer preactivation_;
    aligned_buffer labels_;
    aligned_buffer grads_{1};
    std::array<std::size_t, layer_count> grad_offsets_{};
    std::array<float*, layer_count> grad_pointers_{};
    // One optimizer pass per run of parameters (train/parameter_runs.hpp); the gradients are
    // laid out like the parameters, so a run is contiguous in both.
    std::vector<detail::parameter_run> runs_;
};

}  // namespace xfuse
