// Time per sample of the seed model's batched predict (10000 samples, the suite's seed_predict
// row) and of its single-sample call, for opt_levels.sh: the median over 15 runs, thread CPU
// time. Small enough to compile in seconds, so that several builds (compilers, optimisation
// levels, include trees) can be timed side by side in one run.
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "support/seed_model.hpp"
#include "timing.hpp"

namespace {

using timing::call;
using timing::thread_ns;

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main() {
    const auto model = seed::build();
    std::mt19937 generator(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    constexpr std::size_t samples = 10000;
    xt::xtensor<float, 2> a = xt::empty<float>({samples, std::size_t{10}});
    xt::xtensor<float, 2> b = xt::empty<float>({samples, std::size_t{20}});
    for (float& v : a)
        v = normal(generator);
    for (float& v : b)
        v = normal(generator);
    std::vector<xt::xtensor_fixed<float, xt::xshape<10>>> first(256);
    std::vector<xt::xtensor_fixed<float, xt::xshape<20>>> second(256);
    for (std::size_t i = 0; i < 256; ++i) {
        std::copy_n(&a(i, 0), 10, first[i].begin());
        std::copy_n(&b(i, 0), 20, second[i].begin());
    }
    volatile float sink = 0.0f;
    std::vector<double> batched, single;
    for (int run = 0; run < 15; ++run) {
        double start = thread_ns();
        for (int repeat = 0; repeat < 5; ++repeat)
            sink = model.predict(a, b)(samples - 1, 0);
        batched.push_back((thread_ns() - start) / (5.0 * samples));
        start = thread_ns();
        for (int i = 0; i < 20000; ++i)
            sink = call(model, first[i & 255], second[i & 255]);
        single.push_back((thread_ns() - start) / 20000.0);
    }
    std::printf("predict %.1f one_sample %.1f\n", median(batched), median(single));
}
