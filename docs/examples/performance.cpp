// docs/performance.md: the fusion switch, what the fused plan does with the seed model, and
// what inference allocates.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include "check.hpp"

namespace xf = xfuse;

int main() {
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    auto attention = xf::Dense<96, xf::softmax, "attention">{}(x);
    auto dot = xf::Dot<1>{}(x, attention);
    auto output = xf::Dense<1, xf::sigmoid>{}(dot);
    auto model = xf::Model{xf::inputs(input1, input2), output};

    xt::xtensor<float, 2> a = xt::random::randn<float>({10000, 10});
    xt::xtensor<float, 2> b = xt::random::randn<float>({10000, 20});

    // [switch]
    auto fused = model.predict(a, b);               // the default: the fused plan
    auto plain = model.predict(xf::unfused, a, b);  // one kernel per layer, in Keras' order
    CHECK(xt::amax(xt::abs(fused - plain))() <= 1e-5f);
    // [switch]

    // [plan]
    using graph = decltype(model)::graph_type;
    constexpr auto layout = xf::detail::fuse<graph>();
    using xf::detail::step_kind;
    // Nodes in topological order: input_1, dense, input_2, dense_1, concatenate, attention,
    // dot, dense_2.
    static_assert(layout.kind[1] == step_kind::dense && layout.home[1] == 4);  // into the slice
    static_assert(layout.kind[4] == step_kind::elided);     // the Concatenate costs nothing
    static_assert(layout.kind[5] == step_kind::attention);  // softmax and Dot in one loop
    static_assert(layout.kind[6] == step_kind::absorbed);
    // [plan]

    // [single]
    xt::xtensor_fixed<float, xt::xshape<10>> sample_a = xt::view(a, 0);
    xt::xtensor_fixed<float, xt::xshape<20>> sample_b = xt::view(b, 0);
    const auto y = model(sample_a, sample_b);  // no heap allocation, scratch on the stack
    CHECK(std::abs(y(0) - fused(0, 0)) <= 1e-6f);
    // [single]
    return docs::exit_code();
}
