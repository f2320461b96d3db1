// Fusion as pattern matching on the graph type, decided once per graph type (fusion_of<Graph>)
// and read by every plan: the fused forward plan (exec/fused_plan.hpp), the backward plan
// (exec/backward.hpp) and the trainer's logits path (train/trainer.hpp). Layers are recognised
// by the kind they declare (layers/layer_kinds.hpp), never by their class template.
//
// Rules of the forward plan (`kind`, checked in this order):
//   attention  Dot(axes=1)(x, Dense(N, softmax)(x)) on rank-1 samples, same x on both sides (the
//              `attention` block, found at the Dot node), with a row of N logits that fits the
//              registers (kernels::attention_fits_registers): the Dense node computes the Dot's
//              value too (kernels/attention.hpp) and the Dot node becomes `absorbed`. The
//              weights are stored only if something else reads them or they are a model output.
//              Where x is relu output (a relu layer's, or a Concatenate of relu layers' outputs),
//              about half its features are zero on typical data, and a row that does not fit
//              the registers is multiplied skipping them (`skip_zeros`).
//   slices     a rank-1 Concatenate whose inputs are all Dense nodes read by nothing else and
//              not model outputs, each starting on a SIMD register boundary (and a whole number
//              of registers wide, except the last): each Dense writes straight into its slice
//              and the Concatenate is `elided`.
//   dense      every other Dense: register-blocked, activation applied before the one store.
//   plain      everything else runs the layer's own forward.
//   in place   an Input read only by dense steps (and not a model output) is read where the
//              caller has it, rows of its logical width: the Dense kernel reads x[s, k] for
//              k < In one float at a time, so it needs no padded copy.
//
// Rules of the backward plan (`backward_kind`), which reads the plain forward plan's scratch,
// where every node is stored:
//   attention  the Dot node of an attention block whose weights nothing else reads and that are
//              no model output runs the block's backward in one loop per tile
//              (kernels/attention_backward.hpp): the gradient reaching the weights is then the
//              Dot's alone. Any row width: the loop never holds a whole row in registers. The
//              weights node is `absorbed`.
//   plain      every other node runs its layer's backward.
//
// The logits rule (`logits_output`): a model output made by a Dense-like or activation layer and
// read by no layer; a loss may take its pre-activation (x W + b, or the activation layer's
// input), and the backward plan then starts from dL/dz.
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
    bool is_activation = false;  // an activation layer
    bool is_softmax_dense = false;
    bool is_dot = false;  // a Dot of rank-1 samples along their axis, not normalised
    bool is_concatenate = false;
    bool is_relu = false;         // a layer whose output is relu's
    bool fits_registers = false;  // a softmax Dense whose row fits the attention kernel
    std::size_t width = 0;        // last dimension
};

template <class Node>
constexpr node_facts facts_of() {
    using shape = typename Node::shape_type;
    node_facts f;
    f.is_input = InputTensor<Node>;
    if constexpr (!InputTensor<Node>) {
        using layer = typename Node::layer_type;
        constexpr bool rank_one = shape::rank == 1;
        f.is_dense = DenseLayer<layer>;
        f.is_activation = ActivationLayer<layer>;
        f.is_relu = AppliesActivation<layer, relu_t>;
        if constexpr (DotLayer<layer>)
            f.is_dot = rank_one && !layer::layer_kind::normalize &&
                       sample_axis<1>(layer::layer_kind::axes) == 0;
        if constexpr (ConcatenateLayer<layer>)
            f.is_concatenate = rank_one && sample_axis<1>(layer::layer_kind::axis) == 0;
        if constexpr (DenseLayerWith<layer, softmax_t>) {
            f.is_softmax_dense = true;
            f.fits_registers = kernels::attention_fits_registers<shape::last>;
        }
    }
    f.width = shape::last;
    return f;
}

// An attention block s = Dot(x, a), a = Dense(N, softmax)(x), recorded at its Dot node.
struct attention_block {
    bool found = false;
    std::size_t x = 0;            // the node both sides read
    std::size_t weights = 0;      // the softmax Dense node
    bool weights_shared = false;  // another layer reads the weights, or they are a model output
    bool fits_registers = false;  // a row of logits fits the registers
    bool skip_zeros = false;      // x is relu output: the product skips its zero features

    constexpr bool fused_forward() const noexcept { return found && fits_registers; }
    constexpr bool fused_backward() const noexcept { return found && !weights_shared; }
};

template <std::size_t NodeCount>
struct fusion_layout {
    std::array<step_kind, NodeCount> kind{};      // forward plan
    std::array<std::size_t, NodeCount> home{};    // node whose buffer holds this node's values
    std::array<std::size_t, NodeCount> column{};  // first float within each of home's rows
    std::array<std::size_t, NodeCount> pooled{};  // forward attention step: its Dot node
    std::array<bool, NodeCount> read_in_place{};  // input: dense steps read the caller's rows
    std::array<attention_block, NodeCount> attention{};  // at Dot nodes
    std::array<step_kind, NodeCount> backward_kind{};    // backward plan
    std::array<bool, NodeCount> logits_output{};
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
    // Relu output: a relu layer's, or the join of relu layers' outputs.
    constexpr auto relu_output = [&] {
        std::array<bool, count> relu{};
        for (std::size_t n = 0; n < count; ++n) {
            bool joined = facts[n].is_concatenate;
            for (std::size_t i = 0; joined && i < topology::fan_in[n]; ++i)
                joined = facts[topology::node_inputs[n][i]].is_relu;
            relu[n] = facts[n].is_relu || joined;
        }
        return relu;
    }();

    fusion_layout<count> layout;
    for (std::size_t n = 0; n < count; ++n) {
        layout.kind[n] = facts[n].is_input   ? step_kind::input
                         : facts[n].is_dense ? step_kind::dense
                                             : step_kind::plain;
        layout.backward_kind[n] = facts[n].is_input ? step_kind::input : step_kind::plain;
        layout.home[n] = n;
        layout.logits_output[n] =
            (facts[n].is_dense || facts[n].is_activation) && is_output[n] && readers[n] == 0;
    }

    for (std::size_t dot = 0; dot < count; ++dot) {
        if (!facts[dot].is_dot)
            continue;
        for (std::size_t side = 0; side < 2; ++side) {
            const std::size_t x = topology::node_inputs[dot][side];
            const std::size_t weights = topology::node_inputs[dot][1 - side];
            if (facts[weights].is_softmax_dense && topology::node_inputs[weights][0] == x &&
                x != weights) {
                layout.attention[dot] = {true,
                                         x,
                                         weights,
                                         readers[weights] > 1 || is_output[weights],
                                         facts[weights].fits_registers,
                                         relu_output[x]};
                break;
            }
        }
        const attention_block& block = layout.attention[dot];
        // A Dense read by two such Dots computes the first one's value only.
        if (block.fused_forward() && layout.kind[block.weights] == step_kind::dense) {
            layout.kind[block.weights] = step_kind::attention;
            layout.kind[dot] = step_kind::absorbed;
            layout.pooled[block.weights] = dot;
        }
        if (block.fused_backward()) {
            layout.backward_kind[dot] = step_kind::attention;
            layout.backward_kind[block.weights] = step_kind::absorbed;
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

// The decisions for one graph type, computed once.
template <class Graph>
inline constexpr auto fusion_of = fuse<Graph>();

}  // namespace xfuse::detail
