// expect: xfuse::Concatenate: inputs must agree on every axis but the joined one
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<4, 8>{};
#ifdef XFUSE_SHOULD_FAIL
    auto b = xf::Input<5, 3>{};
#else
    auto b = xf::Input<4, 3>{};
#endif
    [[maybe_unused]] auto c = xf::Concatenate{}(a, b);
}
