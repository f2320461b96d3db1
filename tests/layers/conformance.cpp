// One conformance check applied to every built-in layer (xf::testing::check_layer): shape,
// forward against the double-precision reference of support/reference.hpp, one sample against
// the batch, the fused plan against the plain one, and gradients by central differences, at
// feature sizes around the SIMD width (xf::testing::simd_tail_sizes, from the target's width).
// This file: the merging, pooling, relayout and embedding layers; conformance_dense.cpp: Dense
// and Activation.
#define BOOST_TEST_MODULE layers_conformance
#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>

#include "support/conformance.hpp"

namespace xf = xfuse;

using reference::check_conformance;
using reference::for_each_tail_size;
using xf::testing::simd_tail_sizes;
constexpr std::size_t w = xf::simd_width;

BOOST_AUTO_TEST_CASE(concatenate_last_and_outer_axes) {
    for_each_tail_size([]<std::size_t I>() {
        constexpr std::size_t a = simd_tail_sizes[I];
        constexpr std::size_t b = simd_tail_sizes[(I + 2) % simd_tail_sizes.size()];
        check_conformance<xf::Concatenate<-1, "", void>, xf::shape<a>, xf::shape<b>,
                          xf::shape<a>>();
        check_conformance<xf::Concatenate<1, "", void>, xf::shape<3, a>, xf::shape<2, a>>();
        check_conformance<xf::Concatenate<-1, "", void>, xf::shape<3, a>, xf::shape<3, b>>();
    });
}

BOOST_AUTO_TEST_CASE(dot_of_vectors_and_sequences) {
    for_each_tail_size([]<std::size_t I>() {
        constexpr std::size_t n = simd_tail_sizes[I];
        using S = xf::shape<n>;
        check_conformance<xf::Dot<1, false, "", void>, S, S>();
        check_conformance<xf::Dot<-1, true, "", void>, S, S>();
        // (4, n)·(6, n) along the features -> (4, 6); (4, n)·(4, 3) along the steps -> (n, 3).
        check_conformance<xf::Dot<2, false, "", void>, xf::shape<4, n>, xf::shape<6, n>>();
        check_conformance<xf::Dot<1, true, "", void>, xf::shape<4, n>, xf::shape<4, 3>>();
    });
    check_conformance<xf::Dot<2, true, "", void>, xf::shape<4, 17>, xf::shape<6, 17>>();
}

BOOST_AUTO_TEST_CASE(merge_layers) {
    const auto one_shape = []<class S>() {
        check_conformance<xf::Add<"", void>, S, S, S>();
        check_conformance<xf::Subtract<"", void>, S, S>();
        check_conformance<xf::Multiply<"", void>, S, S, S>();
        check_conformance<xf::Average<"", void>, S, S, S>();
        check_conformance<xf::Maximum<"", void>, S, S, S>();
        check_conformance<xf::Minimum<"", void>, S, S>();
    };
    for_each_tail_size(
        [&]<std::size_t I>() { one_shape.template operator()<xf::shape<simd_tail_sizes[I]>>(); });
    one_shape.template operator()<xf::shape<2, w + 1>>();
}

BOOST_AUTO_TEST_CASE(global_pooling_over_steps) {
    for_each_tail_size([]<std::size_t I>() {
        constexpr std::size_t d = simd_tail_sizes[I];
        check_conformance<xf::GlobalAveragePooling1D<"", void>, xf::shape<5, d>>();
        check_conformance<xf::GlobalMaxPooling1D<"", void>, xf::shape<5, d>>();
    });
    // One step: the pooling is the identity.
    check_conformance<xf::GlobalAveragePooling1D<"", void>, xf::shape<1, w + 1>>();
    check_conformance<xf::GlobalMaxPooling1D<"", void>, xf::shape<1, w + 1>>();
}

BOOST_AUTO_TEST_CASE(flatten_and_reshape_move_values_between_row_layouts) {
    for_each_tail_size([]<std::size_t I>() {
        constexpr std::size_t n = simd_tail_sizes[I];
        constexpr int m = int(n);
        check_conformance<xf::Flatten<"", void>, xf::shape<3, n>>();
        check_conformance<xf::Flatten<"", void>, xf::shape<2, 3, n>>();
        check_conformance<xf::Flatten<"", void>, xf::shape<n>>();
        check_conformance<xf::Reshape<-1, 0, 0, 0, "", void>, xf::shape<3, n>>();
        check_conformance<xf::Reshape<m, 3, 0, 0, "", void>, xf::shape<3, n>>();
        check_conformance<xf::Reshape<-1, 3, 0, 0, "", void>, xf::shape<3, n>>();
        check_conformance<xf::Reshape<3, 1, m, 0, "", void>, xf::shape<3 * n>>();
    });
}

BOOST_AUTO_TEST_CASE(embeddings_of_token_ids) {
    // Ids from a small vocabulary: every batch repeats ids, whose gradients then accumulate.
    constexpr std::size_t vocabulary = 7;
    auto options = reference::built_in_options();
    options.integer_inputs = vocabulary;
    for_each_tail_size([&]<std::size_t I>() {
        constexpr std::size_t d = simd_tail_sizes[I];
        constexpr std::size_t steps = simd_tail_sizes[(I + 2) % simd_tail_sizes.size()];
        check_conformance<xf::Embedding<vocabulary, d, "", void>, xf::shape<steps>>(options);
        check_conformance<xf::Embedding<vocabulary, d, "", void>, xf::shape<2, 3>>(options);
        check_conformance<xf::TokenAndPositionEmbedding<vocabulary, steps, d, "", void>,
                          xf::shape<steps>>(options);
        check_conformance<xf::TokenAndPositionEmbedding<vocabulary, steps + 4, d, "", void>,
                          xf::shape<steps>>(options);
    });
}
