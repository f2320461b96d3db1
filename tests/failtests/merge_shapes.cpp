// expect: xfuse: merge layers \(Add, Multiply, \.\.\.\) need inputs of one shape
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<16>{};
#ifdef XFUSE_SHOULD_FAIL
    auto b = xf::Input<17>{};
#else
    auto b = xf::Input<16>{};
#endif
    [[maybe_unused]] auto c = xf::Add{}(a, b);
}
