// The fused execution plan: the same scratch layout as forward_plan (exec/plan.hpp), with the
// steps chosen by exec/fusion_rules.hpp (the layout's `kind`). Dense layers run register-blocked
// with their activation applied before the one store, write straight into the Concatenate that
// joins them, and the attention block (Dense softmax then Dot with the same input) is one loop.
//
// Nodes a fused step makes unnecessary (an absorbed Dot's weights, an elided Concatenate's
// inputs) keep their place in the layout but are never written; model outputs always are.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../graph/graph.hpp"
#include "../kernels/attention.hpp"
#include "../kernels/dense_tile.hpp"
#include "fusion.hpp"
#include "fusion_rules.hpp"
#include "plan.hpp"

namespace xfuse {

template <class Graph>
struct fused_plan {
    using layout_plan = forward_plan<Graph>;
    static constexpr std::size_t sample_storage = layout_plan::sample_storage;
    static constexpr auto& layout = detail::fusion_of<Graph>;

    template <class Node>
    static float* buffer(float* scratch, std::size_t samples) noexcept {
        return layout_plan::template buffer<Node>(scratch, samples);
    }

    // Inputs that only Dense steps read (fusion_rules.hpp, "in place") may be passed as
    // `sources[node]`: `samples` rows of the input's logical width, contiguous, not copied into
    // scratch. An input left null is read from its buffer, as every input of forward_plan is.
    using input_sources = typename layout_plan::input_sources;
    template <class Node>
    static constexpr bool reads_in_place = layout.read_in_place[Graph::template node_index<Node>];

    static void run(const layer_bindings<Graph>& layers, float* scratch, std::size_t samples,
                    const input_sources& sources = {}) noexcept {
        [&]<std::size_t... N>(std::index_sequence<N...>) {
            (run_node<N>(layers, scratch, samples, sources), ...);
        }
        (std::make_index_sequence<Graph::node_count>{});
    }

  private:
    template <std::size_t N>
    using node_t = typename Graph::template node_t<N>;

    // A node's values: rows of its home's row stride, from `column` on.
    template <std::size_t N>
    static float* values(float* scratch, std::size_t samples) noexcept {
        return buffer<node_t<layout.home[N]>>(scratch, samples) + layout.column[N];
    }
    template <std::size_t N>
    static constexpr std::size_t row_stride = node_t<layout.home[N]>::shape_type::row_stride;

    template <std::size_t N>
    static void run_node(const layer_bindings<Graph>& layers, float* scratch, std::size_t samples,
                         const input_sources& sources) noexcept {
        using node = node_t<N>;
        constexpr detail::step_kind step = layout.kind[N];
        if constexpr (step == detail::step_kind::plain) {
            layout_plan::template run_layer<node>(layers, scratch, samples);
        } else if constexpr (step == detail::step_kind::dense ||
                             step == detail::step_kind::attention) {
            using layer = typename node::layer_type;
            using kind = typename layer::layer_kind;
            using input = at_t<0, typename node::inputs>;
            using in_shape = typename input::shape_type;
            constexpr std::size_t in = in_shape::last;
            constexpr std::size_t units = kind::units;
            const auto p = kind::template params<in>(
                static_cast<const float*>(layers.weights[Graph::template layer_index<layer>]));
            constexpr std::size_t x_node = Graph::template node_index<input>;
            const std::size_t rows = samples * in_shape::rows;
            if constexpr (step == detail::step_kind::dense) {
                const bool in_place = layout.read_in_place[x_node] && sources[x_node];
                kernels::dense_activation_rows<in, units, typename kind::activation_type>(
                    p.kernel, p.bias, in_place ? sources[x_node] : values<x_node>(scratch, samples),
                    in_place ? in : row_stride<x_node>, values<N>(scratch, samples), row_stride<N>,
                    rows);
            } else {
                constexpr std::size_t x_stride = row_stride<x_node>;
                const float* x = values<x_node>(scratch, samples);
                constexpr std::size_t dot = layout.pooled[N];
                constexpr detail::attention_block block = layout.attention[dot];
                kernels::attention_pooling_rows<units, block.weights_shared, block.skip_zeros>(
                    p.kernel, p.bias, x, x_stride, values<N>(scratch, samples), row_stride<N>,
                    values<dot>(scratch, samples), row_stride<dot>, rows);
            }
        }
        // input: filled by the caller; absorbed and elided: written by an earlier step.
    }
};

// The plan a fusion choice runs (exec/fusion.hpp).
template <class Graph, FusionChoice Fusion>
using execution_plan_t =
    std::conditional_t<std::is_same_v<Fusion, fused_t>, fused_plan<Graph>, forward_plan<Graph>>;

}  // namespace xfuse
