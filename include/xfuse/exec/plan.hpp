// The plain execution plan: the graph's nodes as a fixed sequence of calls of each layer's own
// forward (on the model's copy of the layer, graph/layer_bindings.hpp) on fixed-size buffers, in
// Keras' order. It keeps every node's output, which the
// backward plan reads; the fused plan (exec/fused_plan.hpp) shares its layout and replaces
// steps.
//
// Scratch layout for a tile of `samples` samples: node n's buffer starts at
// samples * offsets[n] and holds `samples` consecutive samples of its shape's padded storage.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "../core/symbolic.hpp"
#include "../graph/graph.hpp"
#include "../graph/layer_bindings.hpp"

namespace xfuse {

template <class Graph>
struct forward_plan {
    static constexpr std::size_t node_count = Graph::node_count;

    static constexpr std::array<std::size_t, node_count> node_storage =
        []<class... N>(type_list<N...>) {
            return std::array<std::size_t, node_count>{N::shape_type::storage...};
        }(typename Graph::nodes{});

    static constexpr std::array<std::size_t, node_count> offsets = [] {
        std::array<std::size_t, node_count> offset{};
        for (std::size_t n = 1; n < node_count; ++n)
            offset[n] = offset[n - 1] + node_storage[n - 1];
        return offset;
    }();

    // Floats of scratch one sample needs for every node of the graph.
    static constexpr std::size_t sample_storage = offsets[node_count - 1] + node_storage.back();

    template <class Node>
    static float* buffer(float* scratch, std::size_t samples) noexcept {
        return scratch + samples * offsets[Graph::template node_index<Node>];
    }

    // Per node, where an input is read when not from its buffer (fused_plan::reads_in_place);
    // this plan reads every input from its buffer.
    using input_sources = std::array<const float*, node_count>;
    template <class Node>
    static constexpr bool reads_in_place = false;

    // Computes every node that is not an input, in topological order.
    static void run(const layer_bindings<Graph>& layers, float* scratch, std::size_t samples,
                    const input_sources& = {}) noexcept {
        [&]<class... N>(type_list<N...>) {
            (
                [&] {
                    if constexpr (!InputTensor<N>)
                        run_layer<N>(layers, scratch, samples);
                }(),
                ...);
        }(typename Graph::nodes{});
    }

    // One node through its layer's own forward, reading and writing the node buffers.
    template <class Node>
    static void run_layer(const layer_bindings<Graph>& layers, float* scratch,
                          std::size_t samples) noexcept {
        [&]<class... In>(type_list<In...>) {
            using layer = typename Node::layer_type;
            call_layer<forward_function, typename In::shape_type...>(
                layers.template layer<layer>(), layers.template context_of<layer>(),
                static_cast<const float*>(layers.weights[Graph::template layer_index<layer>]),
                samples, std::array<const float*, sizeof...(In)>{buffer<In>(scratch, samples)...},
                buffer<Node>(scratch, samples));
        }(typename Node::inputs{});
    }
};

}  // namespace xfuse
