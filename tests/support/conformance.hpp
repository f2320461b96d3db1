// The tests' one call of xf::testing::check_layer: a built-in layer against its reference in
// support/reference.hpp, reported through Boost.Test.
#pragma once

#include <boost/test/unit_test.hpp>
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

template <class Layer, xfuse::Shape... In>
void check_conformance(const xfuse::testing::check_options& options = built_in_options()) {
    const xfuse::testing::check_result result =
        xfuse::testing::check_layer<Layer, In...>(of<Layer>{}, options);
    BOOST_TEST(result.passed, result.message);
    BOOST_TEST_MESSAGE("worst relative error: forward " << result.worst_forward_error
                                                        << ", gradients "
                                                        << result.worst_gradient_error);
}

}  // namespace reference
