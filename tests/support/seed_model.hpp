// The seed notebook's model, built once for the tests that need it.
#pragma once

#include <xfuse/xfuse.hpp>

namespace seed {

namespace xf = xfuse;

inline auto build() {
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    auto alpha = xf::Dense<96, xf::softmax, "attention">{}(x);
    auto s = xf::Dot<1>{}(x, alpha);
    auto output = xf::Dense<1, xf::sigmoid>{}(s);
    return xf::Model{xf::inputs(input1, input2), output};
}

using model_type = decltype(build());

}  // namespace seed
