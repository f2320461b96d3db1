// The backward plan: the forward plan's nodes walked in reverse, each calling its layer's
// backward, with the attention block's fused backward where the graph has one.
//
//   forward_plan<Graph>::run(layers, scratch, samples);          // keeps every node's output
//   <write dL/d(output) into each output node's buffer of grad_scratch>
//   backward_plan<Graph>::run(layers, grads, scratch, grad_scratch, samples);
//
// grad_scratch has forward_plan's layout (node n at grad_scratch + samples * offsets[n]); run()
// zeroes every buffer it accumulates into except the outputs', and leaves the inputs' alone
// (the model's inputs get no gradient: layers receive nullptr for them). Parameter gradients
// are ADDED to `grads` (one pointer per layer, the layout of its weights), so a caller zeroes them
// per step, or not, to accumulate over tiles of a batch.
//
// Options, as template arguments:
// - Fusion: fused_t follows the backward rules of exec/fusion_rules.hpp (`backward_kind`): the
//   Dot and the softmax Dense of an attention block s = Dot<1>(x, Dense<N, softmax>(x)) whose
//   weights nothing else reads become one loop per tile of samples
//   (kernels/attention_backward.hpp); unfused_t calls each layer.
// - Gradient: output_gradient::logits says that for outputs made by a Dense-like or activation
//   layer the caller wrote dL/dz for the pre-activation z (x W + b, or the activation layer's
//   input: Keras' logits path for sigmoid/softmax outputs, BCE's dL/dz = (sigmoid(z) - y) /
//   batch); dense_kind::backward_preactivation takes it, an activation layer passes it to its
//   input. Such outputs must satisfy the logits rule (`logits_output`).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/symbolic.hpp"
#include "../graph/graph.hpp"
#include "../kernels/attention_backward.hpp"
#include "../layers/layer_kinds.hpp"
#include "fusion.hpp"
#include "fusion_rules.hpp"
#include "plan.hpp"

namespace xfuse {

// What the caller writes into an output node's gradient buffer.
enum class output_gradient {
    activation,  // dL/d(output), the node's value
    logits       // dL/d(pre-activation) for outputs made by a Dense or an activation layer;
                 // dL/d(output) for the rest
};

template <class Graph, FusionChoice Fusion = default_fusion_t,
          output_gradient Gradient = output_gradient::activation>
struct backward_plan {
    using forward = forward_plan<Graph>;
    static constexpr bool fuse = std::is_same_v<Fusion, fused_t>;

    static void run(const layer_bindings<Graph>& layers,
                    const std::array<float*, Graph::layer_count>& grads, const float* scratch,
                    float* grad_scratch, std::size_t samples) noexcept {
        [&]<class... N>(type_list<N...>) {
            (zero_gradient<N>(grad_scratch, samples), ...);
        }(typename Graph::nodes{});
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (backward_node<typename Graph::template node_t<Graph::node_count - 1 - I>>(
                 typename Graph::template node_t<Graph::node_count - 1 - I>::inputs{}, layers,
                 grads, scratch, grad_scratch, samples),
             ...);
        }
        (std::make_index_sequence<Graph::node_count>{});
    }

  private:
    template <class Node>
    static constexpr bool is_output = contains_v<typename Graph::outputs, Node>;
    static constexpr auto& rules = detail::fusion_of<Graph>;
    template <class Node>
    static constexpr detail::step_kind step =
        fuse ? rules.backward_kind[Graph::template node_index<Node>]
             : (InputTensor<Node> ? detail::step_kind::input : detail::step_kind::plain);
    template <class Node>
    static constexpr bool skipped = step<Node> == detail::step_kind::absorbed;

    template <class Node>
    static const float* value(const float* scratch, std::size_t samples) noexcept {
        return scratch + samples * forward::offsets[Graph::template node_index<Node>];
    }
    template <class Node>
    static float* gradient(float* grad_scratch, std::size_t samples) noexcept {
        return grad_scratch + samples * forward::offsets[Graph::template node_index<Node>];
    }
    // Where a layer adds the gradient of its input In: nowhere for the model's inputs.
    template <class In>
    static float* input_gradient(float* grad_scratch, std::size_t samples) noexcept {
        if constexpr (InputTensor<In>)
            return nullptr;
        else
            return gradient<In>(grad_scratch, samples);
    }

    template <class Node>
    static void zero_gradient(float* grad_scratch, std::size_t samples) noexcept {
        if constexpr (!InputTensor<Node> && !is_output<Node> && !skipped<Node>)
            std::fill_n(gradient<Node>(grad_scratch, samples), samples * Node::shape_type::storage,
                        0.0f);
    }

    template <class Node, class... In>
    static void backward_node(type_list<In...>, const layer_bindings<Graph>& layers,
                              const std::array<float*, Graph::layer_count>& grads,
                              const float* scratch, float* grad_scratch,
                              std::size_t samples) noexcept {
        if constexpr (!InputTensor<Node> && !skipped<Node>) {
            using layer = typename Node::layer_type;
            constexpr std::size_t l = Graph::template layer_index<layer>;
            if constexpr (step<Node> == detail::step_kind::attention) {
                attention_backward<Node>(layers, grads, scratch, grad_scratch, samples);
            } else if constexpr (Gradient == output_gradient::logits && is_output<Node> &&
                                 (DenseLayer<layer> || ActivationLayer<layer>)) {
                static_assert(rules.logits_output[Graph::template node_index<Node>],
                              "xfuse::backward_plan: with output_gradient::logits, an output "
                              "made by a Dense or an Activation must feed no other layer");
                if constexpr (DenseLayer<layer>)
                    layer::layer_kind::template backward_preactivation<typename In::shape_type...>(
                        layers.weights[l], grads[l], samples, {value<In>(scratch, samples)...},
                        gradient<Node>(grad_scratch, samples),
                        {input_gradient<In>(grad_scratch, samples)...});
                else
                    pass_preactivation_gradient<Node, In...>(grad_scratch, samples);
            } else {
                call_layer<backward_function, typename In::shape_type...>(
                    layers.template layer<layer>(), layers.template context_of<layer>(),
                    static_cast<const float*>(layers.weights[l]), grads[l], samples,
                    std::array<const float*, sizeof...(In)>{value<In>(scratch, samples)...},
                    value<Node>(scratch, samples),
                    static_cast<const float*>(gradient<Node>(grad_scratch, samples)),
                    std::array<float*, sizeof...(In)>{
                        input_gradient<In>(grad_scratch, samples)...});
            }
        }
    }

    // An activation layer's output given dL/d(its input): the gradient goes on unchanged.
    template <class Node, class In>
    static void pass_preactivation_gradient(float* grad_scratch, std::size_t samples) noexcept {
        using shape = typename In::shape_type;
        if constexpr (!InputTensor<In>) {
            const float* g = gradient<Node>(grad_scratch, samples);
            kernels::activation_backward<linear_t, true>(
                nullptr, g, g, gradient<In>(grad_scratch, samples), samples * shape::rows,
                shape::last, shape::row_stride);
        }
    }

    // The Dot node of an attention block: its own backward and its softmax Dense's, in one.
    template <class Dot>
    static void attention_backward(const layer_bindings<Graph>& layers,
                                   const std::array<float*, Graph::layer_count>& grads,
                                   const float* scratch, float* grad_scratch,
                                   std::size_t samples) noexcept {
        constexpr detail::attention_block block = rules.attention[Graph::template node_index<Dot>];
        using X = typename Graph::template node_t<block.x>;
        using A = typename Graph::template node_t<block.weights>;
        using dense = typename A::layer_type::layer_kind;
        constexpr std::size_t l = Graph::template layer_index<typename A::layer_type>;
        const float* x = value<X>(scratch, samples);
        float* x_grad = input_gradient<X>(grad_scratch, samples);
        dense::template run_backward<typename X::shape_type>(
            layers.weights[l], grads[l], samples, {x}, {x_grad},
            kernels::attention_dz_tiles<X::shape_type::last>(
                x, value<A>(scratch, samples), value<Dot>(scratch, samples),
                gradient<Dot>(grad_scratch, samples), x_grad));
    }
};

}  // namespace xfuse
