// expect: xfuse::Dense takes exactly one input tensor
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<16>{};
    auto b = xf::Input<16>{};
#ifdef XFUSE_SHOULD_FAIL
    [[maybe_unused]] auto c = xf::Dense<4>{}(a, b);
#else
    [[maybe_unused]] auto c = xf::Dense<4>{}(xf::Add{}(a, b));
#endif
}
