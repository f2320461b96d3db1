// expect: xfuse::Dot: operand sizes along the dot axis differ
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto x1 = xf::Dense<32>{}(xf::Input<10>{});
#ifdef XFUSE_SHOULD_FAIL
    auto x2 = xf::Dense<64>{}(xf::Input<20>{});
#else
    auto x2 = xf::Dense<32>{}(xf::Input<20>{});
#endif
    [[maybe_unused]] auto s = xf::Dot<1>{}(x1, x2);
}
