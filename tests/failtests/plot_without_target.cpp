// expect: <xfuse/plot.hpp> needs Graphviz and cairo: link the CMake target xfuse::plot
#ifdef XFUSE_SHOULD_FAIL
#include <xfuse/plot.hpp>
#else
#include <xfuse/xfuse.hpp>
#endif
namespace xf = xfuse;
void draw() {
    auto model = xf::Sequential<xf::Input<3>, xf::Dense<2>>{};
    [[maybe_unused]] auto dot = xf::to_dot(model);
}
