// Builds against an installed (or add_subdirectory'd) xfuse and checks one prediction.
#include <cmath>
#include <cstdio>
#include <xfuse/xfuse.hpp>

namespace xf = xfuse;

int main() {
    xf::Sequential<xf::Input<3>, xf::Dense<2, xf::softmax>> model;
    xt::xtensor<float, 2> batch = {{1.0f, 2.0f, 3.0f}};
    const auto out = model.predict(batch);
    const float sum = out(0, 0) + out(0, 1);
    std::printf("consumer: %zu x %zu, row sum %.6f\n", out.shape(0), out.shape(1), sum);
    return std::abs(sum - 1.0f) < 1e-6f ? 0 : 1;
}
