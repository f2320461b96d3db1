// expect: xfuse::Model: a single-sample call takes one xt::xtensor_fixed
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto in = xf::Input<3>{};
    auto model = xf::Model{xf::inputs(in), xf::Dense<2>{}(in)};
#ifdef XFUSE_SHOULD_FAIL
    xt::xtensor_fixed<float, xt::xshape<4>> sample{};
#else
    xt::xtensor_fixed<float, xt::xshape<3>> sample{};
#endif
    [[maybe_unused]] auto y = model(sample);
}
