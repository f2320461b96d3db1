// expect: xfuse::Model: an output depends on an Input missing from the model's inputs
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<4>{};
    auto b = xf::Input<4>{};
    auto sum = xf::Add{}(a, b);
#ifdef XFUSE_SHOULD_FAIL
    [[maybe_unused]] auto model = xf::Model{xf::inputs(a), sum};
#else
    [[maybe_unused]] auto model = xf::Model{xf::inputs(a, b), sum};
#endif
}
