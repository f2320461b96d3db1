// expect: save_checkpoint and load_checkpoint need #include <xfuse/hdf5.hpp>
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void save() {
    auto model = xf::Sequential<xf::Input<3>, xf::Dense<2>>{};
#ifdef XFUSE_SHOULD_FAIL
    model.save_checkpoint("run.h5");
#else
    [[maybe_unused]] auto n = model.count_params();
#endif
}
