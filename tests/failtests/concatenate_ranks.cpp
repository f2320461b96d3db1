// expect: xfuse::Concatenate: all inputs need the same rank
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto a = xf::Input<8>{};
#ifdef XFUSE_SHOULD_FAIL
    auto b = xf::Input<4, 8>{};
#else
    auto b = xf::Input<8>{};
#endif
    [[maybe_unused]] auto c = xf::Concatenate{}(a, b);
}
