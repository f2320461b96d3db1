// expect: xfuse::Model::get_layer: no layer has this name
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto in = xf::Input<3>{};
    auto model = xf::Model{xf::inputs(in), xf::Dense<2, xf::relu, "hidden">{}(in)};
#ifdef XFUSE_SHOULD_FAIL
    [[maybe_unused]] auto layer = model.get_layer<"hiden">();
#else
    [[maybe_unused]] auto layer = model.get_layer<"hidden">();
#endif
}
