// expect: xfuse::Model: two layers share a name; layer names must be unique
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto in = xf::Input<4>{};
    auto h = xf::Dense<4, xf::relu, "block">{}(in);
#ifdef XFUSE_SHOULD_FAIL
    auto out = xf::Dense<1, xf::linear, "block">{}(h);
#else
    auto out = xf::Dense<1, xf::linear, "head">{}(h);
#endif
    [[maybe_unused]] auto model = xf::Model{xf::inputs(in), out};
}
