// core/: static shapes and their padded layout, compile-time names as Keras spells them.
#define BOOST_TEST_MODULE core_core
#include <boost/test/unit_test.hpp>
#include <xfuse/core/shape.hpp>
#include <xfuse/core/static_string.hpp>

namespace xf = xfuse;

// Keras' to_snake_case (generic_utils.py), checked at compile time.
static_assert(xf::to_snake_case("Dense").view() == "dense");
static_assert(xf::to_snake_case("InputLayer").view() == "input_layer");
static_assert(xf::to_snake_case("AttentionLayer2").view() == "attention_layer2");
static_assert(xf::to_snake_case("Conv2D").view() == "conv2d");
static_assert(xf::to_snake_case("GRUCell").view() == "gru_cell");
static_assert(xf::to_snake_case("ABCDef").view() == "abc_def");

static_assert(xf::static_string<16>("dense").append("_").append_number(12).view() == "dense_12");
static_assert(xf::static_string<16>("x").append_number(0).view() == "x0");

using seq = xf::shape<5, 17>;
static_assert(seq::rank == 2 && seq::size == 85 && seq::last == 17 && seq::rows == 5);
static_assert(seq::row_stride % xf::simd_width == 0 && seq::row_stride >= 17);
static_assert(seq::storage == 5 * seq::row_stride);
static_assert(std::is_same_v<xf::with_last_t<seq, 3>, xf::shape<5, 3>>);
static_assert(xf::padded(1) == xf::simd_width && xf::padded(xf::simd_width) == xf::simd_width);

BOOST_AUTO_TEST_CASE(shapes_print_as_keras_tuples) {
    BOOST_TEST((xf::shape_string<xf::shape<10>>() == "(None, 10)"));
    BOOST_TEST((xf::shape_string<xf::shape<5, 17>>() == "(None, 5, 17)"));
}

BOOST_AUTO_TEST_CASE(padding_rounds_up_to_whole_registers) {
    for (std::size_t n : {1u, 7u, 8u, 15u, 16u, 17u, 31u, 33u, 96u, 100u}) {
        const std::size_t p = xf::padded(n);
        BOOST_TEST(p % xf::simd_width == 0u);
        BOOST_TEST(p >= n);
        BOOST_TEST(p < n + xf::simd_width);
    }
}
