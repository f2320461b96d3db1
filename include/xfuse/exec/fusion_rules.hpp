// Fusion as pattern matching on the graph type: which step computes each node, and where each
// node's values live. Everything here is constexpr, computed once per graph type.
//
// Rules (checked in this order):
//   attention  Dot(axes=1)(x, Dense(N, softmax)(x)) on rank-1 samples, same x on both sides,
//              N in registers: the Dense node computes the Dot's value too
//              (kernels/attention.hpp); the weights are stored only if something else reads
//              them or they are a model output. The Dot node becomes `absorbed`.
//   slices     a rank-1 Concatenate whose inputs are all Dense nodes read by nothing else and
//              not model outputs, each starting on a SIMD register boundary (and a whole number
//              of registers wide, except the last): each Dense writes straight into its slice
//              and the Concatenate is `elided`.
//   dense      every other Dense: register-blocked, activation applied before the one store.
//   plain      everything else runs the layer's own forward.
//   in place   an Input read only by dense steps (and not a model output) is read where the
//              caller has it, rows of its logical width: the Dense kernel reads x[s, k] for
//              k < In one float at a time, so it needs no padded copy (the copy was 3.5 % of
//              the seed model's predict, its inputs coming from beyond L2).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"
#include "../kernels/attention.hpp"
#include "../layers/layer_kinds.hpp"

namespace xfuse::detail {

enum class step_kind { input, plain, dense, attention, absorbed, elided };

// Per node, what the rules need to know about it.
struct node_facts {
    bool is_input = false;
    bool is_dense = false;
    bool is_softmax_dense = false;
    bool is_dot = false;
    bool is_concatenate = false;
    bool rank_one = false;
    bool fits_registers = false;  // a softmax Dense whose row fits the attention kernel
    std::size_t width = 0;        // last dimension
};

template <class Node>
constexpr node_facts facts_of() {
    using layer = typename Node::layer_type;
    using shape = typename Node::shape_type;
    node_facts f;
    f.is_input = InputTensor<Node>;
    if constexpr (!InputTensor<Node>) {
        f.is_dense = is_dense_layer<layer>;
        f.is_softmax_dense = is_dense_with<layer, softmax_t>();
        f.rank_one = shape::rank == 1;
        f.is_dot = is_plain_dot_layer<layer> && f.rank_one && sample_axis<1>(dot_axes<layer>) == 0;
        f.is_concatenate = is_concatenate_layer<layer> && f.rank_one &&
                           sample_axis<1>(concatenate_axis<layer>) == 0;
        if constexpr (is_dense_with<layer, softmax_t>())
            f.fits_registers = kernels::attention_fits_registers<shape::last>;
    }
    f.width = shape::last;
    return f;
}

// ---- the rules --------------------------------------------------------------------------------
template <std::size_t NodeCount>
struct fusion_layout {
    std::array<step_kind, NodeCount> kind{};
    std::array<std::size_t, NodeCount> home{};    // node whose buffer holds this node's values
    std::array<std::size_t, NodeCount> column{};  // first float within each of home's rows
    std::array<std::size_t, NodeCount> pooled{};  // attention: the absorbed Dot node
    std::array<bool, NodeCount> store_weights{};  // attention: write the weights too
    std::array<bool, NodeCount> read_in_place{};  // input: dense steps read the caller's rows
};

template <class Graph>
constexpr auto fuse() {
    constexpr std::size_t count = Graph::node_count;
    using topology = typename Graph::topology;
    constexpr auto facts = []<class... N>(type_list<N...>) {
        return std::array<node_facts, count>{facts_of<N>()...};
    }(typename Graph::nodes{});
    constexpr auto is_output = []<class... N>(type_list<N...>) {
        return std::array<bool, count>{contains_v<typename Graph::outputs, N>...};
    }(typename Graph::nodes{});

    constexpr auto& readers = Graph::node_readers;

    fusion_layout<count> layout;
    for (std::size_t n = 0; n < count; ++n) {
        layout.kind[n] = facts[n].is_input   ? step_kind::input
                         : facts[n].is_dense ? step_kind::dense
                                             : step_kind::plain;
        layout.home[n] = n;
    }

    for (std::size_t dot = 0; dot < count; ++dot) {
        if (!facts[dot].is_dot)
            continue;
        for (std::size_t side = 0; side < 2; ++side) {
            const std::size_t x = topology::node_inputs[dot][side];
            const std::size_t weights = topology::node_inputs[dot][1 - side];
            if (facts[weights].is_softmax_dense && facts[weights].fits_registers &&
                layout.kind[weights] == step_kind::dense &&
                topology::node_inputs[weights][0] == x && x != weights) {
                layout.kind[weights] = step_kind::attention;
                layout.kind[dot] = step_kind::absorbed;
                layout.pooled[weights] = dot;
                layout.store_weights[weights] = readers[weights] > 1 || is_output[weights];
                break;
            }
        }
    }

    for (std::size_t c = 0; c < count; ++c) {
        if (!facts[c].is_concatenate)
            continue;
        bool all_slices = true;
        std::size_t offset = 0;
        for (std::size_t i = 0; i < topology::fan_in[c]; ++i) {
            const std::size_t in = topology::node_inputs[c][i];
            const bool last = i + 1 == topology::fan_in[c];
            all_slices = all_slices && layout.kind[in] == step_kind::dense && readers[in] == 1 &&
                         !is_output[in] && offset % simd_width == 0 &&
                         (last || facts[in].width % simd_width == 0);
            offset += facts[in].width;
        }
        if (!all_slices)
            continue;
        layout.kind[c] = step_kind::elided;
        offset = 0;
        for (std::size_t i = 0; i < topology::fan_in[c]; ++i) {
            const std::size_t in = topology::node_inputs[c][i];
            layout.home[in] = c;
            layout.column[in] = offset;
            offset += facts[in].width;
        }
    }

    for (std::size_t n = 0; n < count; ++n)
        layout.read_in_place[n] = facts[n].is_input && !is_output[n];
    for (std::size_t n = 0; n < count; ++n)
        for (std::size_t i = 0; i < topology::fan_in[n]; ++i)
            if (layout.kind[n] != step_kind::dense)
                layout.read_in_place[topology::node_inputs[n][i]] = false;
    return layout;
}

}  // namespace xfuse::detail
