// expect: xfuse::Sequential: the first entry must be an xf::Input
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
#ifdef XFUSE_SHOULD_FAIL
    [[maybe_unused]] xf::Sequential<xf::Dense<4>, xf::Dense<1>> model;
#else
    [[maybe_unused]] xf::Sequential<xf::Input<3>, xf::Dense<4>, xf::Dense<1>> model;
#endif
}
