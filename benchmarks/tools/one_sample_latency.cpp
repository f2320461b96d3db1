// Time per single-sample call of the seed model, as the suite's one_sample row calls it (one
// call per sample, not inlined into the loop, cycling through 256 random samples), for
// ablate_one_sample.sh: the minimum and the median over 21 runs of 20000 calls, thread CPU time.
// "dependent" feeds each output into the next call's inputs, so that calls cannot overlap.
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "support/seed_model.hpp"
#include "timing.hpp"

using timing::call;
using timing::thread_ns;

int main() {
    const auto model = seed::build();
    std::mt19937 generator(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<xt::xtensor_fixed<float, xt::xshape<10>>> first(256);
    std::vector<xt::xtensor_fixed<float, xt::xshape<20>>> second(256);
    for (auto& sample : first)
        for (float& v : sample)
            v = normal(generator);
    for (auto& sample : second)
        for (float& v : sample)
            v = normal(generator);
    constexpr int calls = 20000;
    std::vector<double> independent, dependent;
    volatile float sink = 0.0f;
    for (int run = 0; run < 21; ++run) {
        double start = thread_ns();
        for (int i = 0; i < calls; ++i)
            sink = call(model, first[i & 255], second[i & 255]);
        independent.push_back((thread_ns() - start) / calls);
        start = thread_ns();
        float previous = 0.0f;
        for (int i = 0; i < calls; ++i) {
            auto a = first[i & 255];
            auto b = second[i & 255];
            a(0) += previous * 1e-9f;
            b(0) += previous * 1e-9f;
            previous = call(model, a, b);
        }
        sink = previous;
        dependent.push_back((thread_ns() - start) / calls);
    }
    std::sort(independent.begin(), independent.end());
    std::sort(dependent.begin(), dependent.end());
    std::printf("independent %.1f %.1f dependent %.1f %.1f\n", independent[0], independent[10],
                dependent[0], dependent[10]);
}
