// One conformance check applied to every built-in layer (xf::testing::check_layer): shape,
// forward against the double-precision reference of support/reference.hpp, one sample against
// the batch, the fused plan against the plain one, and gradients by central differences, at
// feature sizes around the SIMD width (xf::testing::simd_tail_sizes, from the target's width).
// This file: Dense and Activation; conformance.cpp: the other layers (two translation units, so
// that a build compiles them side by side).
#define BOOST_TEST_MODULE layers_conformance_dense
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

BOOST_AUTO_TEST_CASE(dense_at_sizes_around_the_simd_width) {
    for_each_tail_size([]<std::size_t I>() {
        // Every size as input and as output once; the pairs mix whole and partial registers.
        constexpr std::size_t in = simd_tail_sizes[I];
        constexpr std::size_t out = simd_tail_sizes[(I + 1) % simd_tail_sizes.size()];
        using S = xf::shape<in>;
        BOOST_TEST_CONTEXT("Dense from " << in << " to " << out) {
            check_conformance<xf::Dense<out, xf::linear, "", true, void>, S>();
            check_conformance<xf::Dense<out, xf::relu, "", true, void>, S>();
            check_conformance<xf::Dense<out, xf::softmax, "", true, void>, S>();
            check_conformance<xf::Dense<out, xf::sigmoid, "", true, void>, S>();
            check_conformance<xf::Dense<out, xf::gelu, "", true, void>, S>();  // recomputes z
            check_conformance<xf::Dense<out, xf::linear, "", false, void>, S>();
        }
    });
    // One sigmoid unit takes the packed single-unit path; 96 is the seed's attention width.
    check_conformance<xf::Dense<1, xf::sigmoid, "", true, void>, xf::shape<2 * w + 3>>();
    check_conformance<xf::Dense<96, xf::softmax, "", true, void>, xf::shape<96>>();
}

BOOST_AUTO_TEST_CASE(dense_on_sequences_acts_on_the_last_axis) {
    check_conformance<xf::Dense<w + 1, xf::tanh, "", true, void>, xf::shape<3, 2 * w + 3>>();
    check_conformance<xf::Dense<w - 1 + (w == 1), xf::relu, "", true, void>, xf::shape<5, w>>();
}

BOOST_AUTO_TEST_CASE(activation_at_sizes_around_the_simd_width) {
    for_each_tail_size([]<std::size_t I>() {
        using S = xf::shape<simd_tail_sizes[I]>;
        check_conformance<xf::Activation<xf::softmax, "", void>, S>();
        check_conformance<xf::Activation<xf::selu, "", void>, S>();
    });
    check_conformance<xf::Activation<xf::tanh, "", void>, xf::shape<3, 2 * w + 3>>();
}
