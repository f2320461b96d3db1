// The backward plan: the forward plan's nodes walked in reverse, each calling its layer's
// backward, with the attention block's fused backward where the graph has one.
//
//   forward_plan<Graph>::run(params, scratch, samples);          // keeps every node's output
//   <write dL/d(output) into each output node's buffer of grad_scratch>
//   backward_plan<Graph>::run(params, grads, scratch, grad_scratch, samples);
//
// grad_scratch has forward_plan's layout (node n at grad_scratch + samples * offsets[n]); run()
// zeroes every buffer it accumulates into except the outputs', and leaves the inputs' alone
// (the model's inputs get no gradient: layers receive nullptr for them). Parameter gradients
// are ADDED to `grads` (one pointer per layer, the layout of `params`), so a caller zeroes them
// per step, or not, to accumulate over tiles of a batch.
//
// Options, as template arguments:
// - Fusion: fused_t replaces the Dot and the softmax Dense of every attention block
//   s = Dot<1>(x, Dense<N, softmax>(x)) (rank-1 x, attention weights read by nothing else) by
//   one loop per tile of samples (kernels/attention_backward.hpp); unfused_t calls each layer.
// - Gradient: output_gradient::logits says that for outputs made by a Dense the caller wrote
//   dL/dz for the pre-activation z = x W + b (Keras' logits path for sigmoid/softmax outputs:
//   BCE's dL/dz = (sigmoid(z) - y) / batch); Dense::backward_preactivation takes it.
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
#include "plan.hpp"

namespace xfuse {

// What the caller writes into an output node's gradient buffer.
enum class output_gradient {
    activation,  // dL/d(output), the node's value
    logits       // dL/d(pre-activation) for outputs made by a Dense; dL/d(output) for the rest
};

namespace detail {

// A is Dense<N, softmax>(X) for a vector X of N features, and only the Dot reads A.
template <class Graph, class X, class A>
constexpr bool attention_weights_of() {
    if constexpr (InputTensor<A> || !is_dense_layer<typename A::layer_type>) {
        return false;
    } else {
        return std::is_same_v<typename A::layer_type::activation_type, softmax_t> &&
               std::is_same_v<typename A::inputs, type_list<X>> && X::shape_type::rank == 1 &&
               std::is_same_v<typename A::shape_type, typename X::shape_type> &&
               Graph::node_readers[Graph::template node_index<A>] == 1 &&
               !contains_v<typename Graph::outputs, A>;
    }
}

// For a node: whether it is the Dot of an attention block, and then its x and attention weights.
template <class Graph, class Node>
struct attention_block {
    static constexpr bool value = false;
};
template <class Graph, class Layer, class P, class Q>
requires is_plain_dot_layer<Layer>
struct attention_block<Graph, node<Layer, P, Q>> {
    static constexpr bool weights_second = attention_weights_of<Graph, P, Q>();
    static constexpr bool value = weights_second || attention_weights_of<Graph, Q, P>();
    using x = std::conditional_t<weights_second, P, Q>;
    using weights = std::conditional_t<weights_second, Q, P>;
};

template <class Graph, class Nodes, class Node>
struct is_fused_attention_weights;
template <class Graph, class... N, class Node>
struct is_fused_attention_weights<Graph, type_list<N...>, Node> {
    template <class D>
    static constexpr bool weights_of() {
        if constexpr (attention_block<Graph, D>::value)
            return std::is_same_v<typename attention_block<Graph, D>::weights, Node>;
        else
            return false;
    }
    static constexpr bool value = (weights_of<N>() || ...);
};

}  // namespace detail

template <class Graph, FusionChoice Fusion = default_fusion_t,
          output_gradient Gradient = output_gradient::activation>
struct backward_plan {
    using forward = forward_plan<Graph>;
    static constexpr bool fuse = std::is_same_v<Fusion, fused_t>;

    static void run(const std::array<float*, Graph::layer_count>& params,
                    const std::array<float*, Graph::layer_count>& grads, const float* scratch,
                    float* grad_scratch, std::size_t samples) noexcept {
        [&]<class... N>(type_list<N...>) {
            (zero_gradient<N>(grad_scratch, samples), ...);
        }(typename Graph::nodes{});
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (backward_node<typename Graph::template node_t<Graph::node_count - 1 - I>>(
                 typename Graph::template node_t<Graph::node_count - 1 - I>::inputs{}, params,
                 grads, scratch, grad_scratch, samples),
             ...);
        }
        (std::make_index_sequence<Graph::node_count>{});
    }

  private:
    template <class Node>
    static constexpr bool is_output = contains_v<typename Graph::outputs, Node>;
    template <class Node>
    static constexpr bool skipped =
        fuse&& detail::is_fused_attention_weights<Graph, typename Graph::nodes, Node>::value;

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
    static void backward_node(type_list<In...>,
                              const std::array<float*, Graph::layer_count>& params,
                              const std::array<float*, Graph::layer_count>& grads,
                              const float* scratch, float* grad_scratch,
                              std::size_t samples) noexcept {
        if constexpr (!InputTensor<Node> && !skipped<Node>) {
            using layer = typename Node::layer_type;
            constexpr std::size_t l = Graph::template layer_index<layer>;
            if constexpr (fuse && detail::attention_block<Graph, Node>::value) {
                attention_backward<Node>(params, grads, scratch, grad_scratch, samples);
            } else if constexpr (Gradient == output_gradient::logits && is_output<Node> &&
                                 detail::is_dense_layer<layer>) {
                static_assert(Graph::node_readers[Graph::template node_index<Node>] == 0,
                              "xfuse::backward_plan: with output_gradient::logits, an output "
                              "made by a Dense must feed no other layer");
                layer::template backward_preactivation<typename In::shape_type...>(
                    params[l], grads[l], samples, {value<In>(scratch, samples)...},
                    gradient<Node>(grad_scratch, samples),
                    {input_gradient<In>(grad_scratch, samples)...});
            } else {
                layer::template backward<typename In::shape_type...>(
                    params[l], grads[l], samples, {value<In>(scratch, samples)...},
                    value<Node>(scratch, samples), gradient<Node>(grad_scratch, samples),
                    {input_gradient<In>(grad_scratch, samples)...});
            }
        }
    }

    // The Dot node of an attention block: its own backward and its softmax Dense's, in one.
    template <class Dot>
    static void attention_backward(const std::array<float*, Graph::layer_count>& params,
                                   const std::array<float*, Graph::layer_count>& grads,
                                   const float* scratch, float* grad_scratch,
                                   std::size_t samples) noexcept {
        using block = detail::attention_block<Graph, Dot>;
        using X = typename block::x;
        using A = typename block::weights;
        using dense = typename A::layer_type;
        constexpr std::size_t l = Graph::template layer_index<dense>;
        const float* x = value<X>(scratch, samples);
        float* x_grad = input_gradient<X>(grad_scratch, samples);
        dense::template run_backward<typename X::shape_type>(
            params[l], grads[l], samples, {x}, {x_grad},
            kernels::attention_dz_tiles<X::shape_type::last>(
                x, value<A>(scratch, samples), value<Dot>(scratch, samples),
                gradient<Dot>(grad_scratch, samples), x_grad));
    }
};

}  // namespace xfuse
