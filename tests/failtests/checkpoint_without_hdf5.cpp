// expect: xfuse::Model::save_checkpoint: #include <xfuse/hdf5.hpp> and link xfuse::hdf5
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
