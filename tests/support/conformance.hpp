// The tests' one call of xf::testing::check_layer: a built-in layer against its reference in
// support/reference.hpp, reported through Boost.Test.
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <xfuse/testing/check_layer.hpp>

#include "support/reference.hpp"

namespace reference {

// A built-in layer alone runs the same kernels in the fused plan as in the plain one, so the two
// agree bit for bit.
inline xfuse::testing::check_options built_in_options() {
    xfuse::testing::check_options options;
    options.fused_tolerance = 0;
    return options;
}

// A layer value with its options (its reference is made from it), or the layer's defaults.
template <class Layer, xfuse::Shape... In>
void check_conformance(const Layer& layer,
                       const xfuse::testing::check_options& options = built_in_options()) {
    const auto made_from_layer = [&] {
        if constexpr (std::is_constructible_v<of<Layer>, const Layer&>)
            return of<Layer>(layer);
        else
            return of<Layer>{};
    };
    const xfuse::testing::check_result result =
        xfuse::testing::check_layer<Layer, In...>(layer, made_from_layer(), options);
    BOOST_TEST(result.passed, result.message);
    BOOST_TEST_MESSAGE("worst relative error: forward " << result.worst_forward_error
                                                        << ", gradients "
                                                        << result.worst_gradient_error);
}

template <class Layer, xfuse::Shape... In>
void check_conformance(const xfuse::testing::check_options& options = built_in_options()) {
    check_conformance<Layer, In...>(Layer{}, options);
}

// Calls f.template operator()<I>() for every index of xf::testing::simd_tail_sizes.
template <class F>
void for_each_tail_size(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<I>(), ...);
    }
    (std::make_index_sequence<xfuse::testing::simd_tail_sizes.size()>{});
}

}  // namespace reference
