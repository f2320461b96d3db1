// One core's FP32 peak, measured in the benchmark's own process: the denominator of every row's
// "% of peak" column.
//
// A chain of FMAs on one register runs at one FMA per latency (4 cycles on Zen 4 and 5); to
// keep every FMA pipe busy the loop needs latency x pipes chains in flight (4 x 2 = 8 there),
// so it runs 16 independent accumulators of the native xsimd::batch<float> where the target
// has 32 registers (AVX-512) and 12 where it has 16 (AVX2, SSE): the two operands need
// registers too, and an accumulator spilled to the stack would be a chain through memory that
// bounds the loop instead of the FMA pipes. No memory is touched in the loop, so what it
// measures is the core's FMA throughput: 2 FLOPs per lane per FMA, the same FLOP convention as
// the workloads (a multiply-add counts 2).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <ctime>
#include <vector>
#include <xfuse/kernels/arch/target.hpp>
#include <xsimd/xsimd.hpp>

namespace bench {

using native_batch = xsimd::batch<float>;

struct peak_measurement {
    double gflops;             // median over repetitions
    std::size_t lanes;         // floats per native batch
    const char* arch;          // xsimd's name for the native instruction set
    std::size_t accumulators;  // independent FMA chains
    int runs;                  // repetitions the median is taken over
};

namespace detail {

inline constexpr std::size_t peak_accumulators = xfuse::kernels::arch::registers >= 32 ? 16 : 12;

// `steps` rounds of one FMA on each accumulator; returns a value depending on all of them so
// the compiler must run every one.
[[gnu::noinline]] inline float fma_chains(std::size_t steps, float seed) {
    std::array<native_batch, peak_accumulators> acc;
    for (std::size_t k = 0; k < peak_accumulators; ++k)
        acc[k] = native_batch(seed + float(k));
    // |a| < 1 and a small b: the chains converge to b / (1 - a), never overflow or go subnormal.
    const native_batch a(0.999999f), b(1e-6f);
    for (std::size_t s = 0; s < steps; ++s)
        for (std::size_t k = 0; k < peak_accumulators; ++k)
            acc[k] = xsimd::fma(acc[k], a, b);
    native_batch total(0.f);
    for (const auto& v : acc)
        total += v;
    return xsimd::hadd(total);
}

// This thread's CPU time in seconds: the clock the benchmarks' rates use too, so time the
// machine's other processes take from this core counts in neither.
inline double thread_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

}  // namespace detail

// Median GFLOP/s of `repetitions` runs of about `seconds_per_run` CPU seconds each.
inline peak_measurement measure_fma_peak(int repetitions = 11, double seconds_per_run = 0.04) {
    constexpr double flops_per_step = 2.0 * native_batch::size * detail::peak_accumulators;
    volatile float sink = 0;
    // Calibrate the step count on a short run (which also wakes the core up).
    std::size_t steps = 1 << 16;
    for (;;) {
        const double start = detail::thread_seconds();
        sink = sink + detail::fma_chains(steps, 1.f);
        const double elapsed = detail::thread_seconds() - start;
        if (elapsed > seconds_per_run / 4) {
            steps = std::size_t(double(steps) * seconds_per_run / elapsed);
            break;
        }
        steps *= 2;
    }
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) {
        const double start = detail::thread_seconds();
        sink = sink + detail::fma_chains(steps, float(r));
        const double elapsed = detail::thread_seconds() - start;
        rates.push_back(flops_per_step * double(steps) / elapsed * 1e-9);
    }
    std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
    return {rates[rates.size() / 2], native_batch::size, xsimd::default_arch::name(),
            detail::peak_accumulators, repetitions};
}

}  // namespace bench
