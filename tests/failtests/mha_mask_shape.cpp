// expect: the attention_mask \(fourth input\) must have shape
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;
void build() {
    auto q = xf::Input<3, 5>{};
    auto v = xf::Input<4, 8>{};
#ifdef XFUSE_SHOULD_FAIL
    auto mask = xf::Input<4, 3>{};  // (S, T): transposed
#else
    auto mask = xf::Input<3, 4>{};
#endif
    [[maybe_unused]] auto y = xf::MultiHeadAttention<2, 4>{}(q, v, v, mask);
}
