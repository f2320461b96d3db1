// expect: xfuse::Dense: the second argument must be an activation such as xf::relu
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
#ifdef XFUSE_SHOULD_FAIL
    [[maybe_unused]] auto d = xf::Dense<4, 3>{}(xf::Input<2>{});
#else
    [[maybe_unused]] auto d = xf::Dense<4, xf::gelu>{}(xf::Input<2>{});
#endif
}
