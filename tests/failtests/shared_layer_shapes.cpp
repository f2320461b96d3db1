// expect: xfuse: a layer object applied twice must see inputs that give it the same weight shapes
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<10>{};
#ifdef XFUSE_SHOULD_FAIL
    auto b = xf::Input<20>{};
#else
    auto b = xf::Input<10>{};
#endif
    auto shared = xf::Dense<4>{};
    [[maybe_unused]] auto model = xf::Model{xf::inputs(a, b), xf::Add{}(shared(a), shared(b))};
}
