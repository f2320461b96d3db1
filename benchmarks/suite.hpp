// The benchmark suite's bookkeeping: workloads, contenders registered with Google Benchmark, the
// correctness gate each contender passes before it is timed, and the per-row counters.
//
// A contender is a callable. A batch contender takes the two input batches and returns its
// output (anything with data(): an xtensor, or a span of the baseline's own buffer); a
// single-sample contender takes a sample's index and returns the model's output for it. Before
// registering, the suite runs the contender on the gate samples and compares every value with
// the expected output (xfuse's fused predict, itself checked against a double-precision
// reference): a contender that computes something else is never timed. A stateful contender
// (one training epoch) is reset before every timed call, outside the timing.
#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

namespace bench {

using batch = xt::xtensor<float, 2>;

// Largest |difference| any contender may show against the expected output.
inline constexpr double gate_tolerance = 1e-4;

struct workload {
    std::string name;   // benchmark name prefix: "seed_predict"
    std::string title;  // for the tables: "seed predict, 10000 samples"
    std::size_t samples_per_call;
    double flops_per_sample;
    std::vector<std::string> contenders{};  // in registration order
};

[[noreturn]] inline void gate_failure(const std::string& what) {
    std::fprintf(stderr, "xfuse_benchmarks: correctness gate failed: %s\n", what.c_str());
    std::exit(1);
}

// Aborts unless `actual` (count floats) matches `expected` within gate_tolerance.
inline void check_gate(const std::string& who, const float* actual, const batch& expected) {
    const std::size_t width = expected.shape(1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double difference = std::abs(double(actual[i]) - double(expected.data()[i]));
        if (!(difference <= gate_tolerance))  // also catches NaN
            gate_failure(who + ": sample " + std::to_string(i / width) + ", output " +
                         std::to_string(i % width) + " is " + std::to_string(actual[i]) +
                         ", expected " + std::to_string(expected.data()[i]));
    }
}

// What the registered benchmarks refer to lives here until the program ends.
template <class T, class... Args>
T& retain(Args&&... args) {
    static std::deque<std::shared_ptr<void>> kept;
    auto object = std::make_shared<T>(std::forward<Args>(args)...);
    kept.push_back(object);
    return *object;
}

template <class Result>
float first_value(const Result& result) {
    if constexpr (std::is_arithmetic_v<Result>)
        return float(result);
    else
        return *result.data();
}

class suite {
  public:
    explicit suite(double peak_gflops) : peak_gflops_(peak_gflops) {}

    workload& add_workload(workload w) { return workloads_.emplace_back(std::move(w)); }
    const std::deque<workload>& workloads() const noexcept { return workloads_; }

    // `timed` inputs are what the benchmark runs on; `gate` inputs and `expected` outputs are
    // the correctness check (references must outlive the run).
    template <class Run>
    void add_batch(workload& w, std::string contender, const batch& timed_a, const batch& timed_b,
                   const batch& gate_a, const batch& gate_b, const batch& expected, Run run) {
        check_gate(w.name + "/" + contender, run(gate_a, gate_b).data(), expected);
        add_timed(w, std::move(contender),
                  [&timed_a, &timed_b, run]() mutable { return run(timed_a, timed_b); });
    }

    // A contender that the caller has gated itself: every timed call is `run()`.
    template <class Run>
    void add_timed(workload& w, std::string contender, Run run) {
        const std::string name = w.name + "/" + contender;
        w.contenders.push_back(std::move(contender));
        benchmark::RegisterBenchmark(name.c_str(), [this, &w,
                                                    run](benchmark::State& state) mutable {
            for (auto _ : state)
                benchmark::DoNotOptimize(run());
            set_counters(state, w);
        })->Unit(benchmark::kMicrosecond);
    }

    // One sample per call, cycling through samples 0 .. expected.shape(0) - 1 (a power of two),
    // so the timing is not that of one sample whose branches the predictor has learned.
    template <class Run>
    void add_single(workload& w, std::string contender, const batch& expected, Run run) {
        const std::string name = w.name + "/" + contender;
        const std::size_t samples = expected.shape(0);
        if (samples == 0 || (samples & (samples - 1)) != 0)
            gate_failure(name + ": the sample count must be a power of two");
        std::vector<float> outputs(samples);
        for (std::size_t i = 0; i < samples; ++i)
            outputs[i] = first_value(run(i));
        check_gate(name, outputs.data(), expected);
        w.contenders.push_back(std::move(contender));
        benchmark::RegisterBenchmark(name.c_str(), [this, &w, samples,
                                                    run](benchmark::State& state) mutable {
            std::size_t i = 0;
            for (auto _ : state) {
                benchmark::DoNotOptimize(run(i));
                i = (i + 1) & (samples - 1);
            }
            set_counters(state, w);
        })->Unit(benchmark::kNanosecond);
    }

    // A contender that changes as it runs (training): `reset` puts it back where it started,
    // outside the timed region, so every timed call `run()` does the same work on the same
    // numbers. The caller gates such a contender itself before adding it (training.hpp).
    template <class Reset, class Run>
    void add_stateful(workload& w, std::string contender, Reset reset, Run run) {
        const std::string name = w.name + "/" + contender;
        w.contenders.push_back(std::move(contender));
        benchmark::RegisterBenchmark(name.c_str(), [this, &w, reset,
                                                    run](benchmark::State& state) mutable {
            for (auto _ : state) {
                state.PauseTiming();
                reset();
                state.ResumeTiming();
                benchmark::DoNotOptimize(run());
            }
            set_counters(state, w);
        })->Unit(benchmark::kMicrosecond);
    }

    const workload* find(const std::string& name) const {
        for (const workload& w : workloads_)
            if (w.name == name)
                return &w;
        return nullptr;
    }

  private:
    // Rates per iteration: a counter of v per iteration with kIsIterationInvariantRate is v *
    // iterations / seconds; inverted, seconds per v. Scaling v by 1e-9 gives ns and GFLOP/s.
    void set_counters(benchmark::State& state, const workload& w) const {
        const double samples = double(w.samples_per_call);
        const double gflop = samples * w.flops_per_sample * 1e-9;
        using benchmark::Counter;
        state.counters["ns/sample"] =
            Counter(samples * 1e-9, Counter::kIsIterationInvariantRate | Counter::kInvert);
        state.counters["GFLOP/s"] = Counter(gflop, Counter::kIsIterationInvariantRate);
        state.counters["%peak"] =
            Counter(gflop * 100.0 / peak_gflops_, Counter::kIsIterationInvariantRate);
    }

    double peak_gflops_;
    std::deque<workload> workloads_;  // a deque: benchmarks keep references to its elements
};

}  // namespace bench
