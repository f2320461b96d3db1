// xfuse_benchmarks: the seed attention model under xfuse (fused and unfused) against Eigen 3.4
// (batched and fixed-size), a plain scalar loop and, where installed, LibTorch; in one process,
// on the same data and the same weights, single-threaded float32.
//
// Workloads: predict on 10000 samples, the attention sub-model on 10000 samples, one sample at
// a time (latency), predict on 10000 samples at attention widths 16 .. 256, one training epoch
// (fit against a hand-written Eigen trainer, training.hpp), and the Transformer classifier's
// predict and training step on a batch of 32 (against LibTorch, transformer.hpp). Each row reports
// the median time, ns per sample, GFLOP/s and % of one core's FP32 peak, which the binary
// measures first (peak.hpp). At the end it prints markdown tables of the medians and of each
// contender's time relative to xfuse fused, and the targets. Every contender passes a
// correctness gate before it is timed (suite.hpp).
//
// Google Benchmark's flags work as usual; without them it runs 5 repetitions of at least 0.2 s
// each, interleaved in random order, and reports their aggregates (flags given on the command
// line override these defaults).
#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <cstddef>
#include <iostream>
#include <span>
#include <string>
#include <vector>
#include <xfuse/xfuse.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xview.hpp>

#include "baselines/eigen_batched.hpp"
#include "baselines/eigen_fixed.hpp"
#include "baselines/scalar_loop.hpp"
#include "models.hpp"
#include "peak.hpp"
#include "reference.hpp"
#include "report.hpp"
#include "seed_model.hpp"
#include "suite.hpp"
#include "training.hpp"
#include "transformer.hpp"
#ifdef XFUSE_BENCH_HAVE_TORCH
#include "baselines/torch_model.hpp"
#endif

#ifndef XFUSE_BENCH_FLAGS
#define XFUSE_BENCH_FLAGS "(not recorded)"
#endif

namespace {

using namespace bench;

constexpr std::size_t batch_samples = 10000;
constexpr std::size_t gate_samples = 256;  // also the samples the latency workload cycles through

struct data_set {
    batch a, b;            // the timed batches
    batch gate_a, gate_b;  // their first gate_samples rows
};

data_set make_data() {
    data_set d{reference::random_batch(batch_samples, input1_features, 1),
               reference::random_batch(batch_samples, input2_features, 2),
               {},
               {}};
    d.gate_a = xt::view(d.a, xt::range(0, gate_samples), xt::all());
    d.gate_b = xt::view(d.b, xt::range(0, gate_samples), xt::all());
    return d;
}

// The model's output (or its attention weights) on the gate samples in double precision, from
// the tests' independent reference loops.
batch double_reference(const std::vector<xt::xarray<float>>& w, const data_set& d,
                       bool attention_only) {
    using namespace reference;
    const matrix x = concatenate(relu(dense(from_xtensor(d.gate_a), w[0], w[1])),
                                 relu(dense(from_xtensor(d.gate_b), w[2], w[3])));
    const matrix alpha = softmax(dense(x, w[4], w[5]));
    const matrix y = attention_only ? alpha : sigmoid(dense(row_dot(x, alpha), w[6], w[7]));
    batch out({y.size(), y[0].size()});
    for (std::size_t i = 0; i < y.size(); ++i)
        for (std::size_t j = 0; j < y[i].size(); ++j)
            out(i, j) = float(y[i][j]);
    return out;
}

// xfuse fused on the gate samples, checked against the double reference: the expected output
// every contender is compared with.
template <class Model>
const batch& expected_output(const Model& model, const std::vector<xt::xarray<float>>& weights,
                             const data_set& d, bool attention_only, const std::string& who) {
    batch& expected = retain<batch>(model.predict(xf::fused, d.gate_a, d.gate_b));
    check_gate(who + "/xfuse_fused (against the double-precision reference)", expected.data(),
               double_reference(weights, d, attention_only));
    return expected;
}

template <class Model>
void add_xfuse(suite& s, workload& w, const Model& model, const data_set& d,
               const batch& expected) {
    s.add_batch(
        w, "xfuse_fused", d.a, d.b, d.gate_a, d.gate_b, expected,
        [&model](const batch& a, const batch& b) { return model.predict(xf::fused, a, b); });
    s.add_batch(
        w, "xfuse_unfused", d.a, d.b, d.gate_a, d.gate_b, expected,
        [&model](const batch& a, const batch& b) { return model.predict(xf::unfused, a, b); });
}

// A baseline's predict or attention on a batch, into an output buffer of its own.
template <class Baseline>
void add_baseline(suite& s, workload& w, const char* name, Baseline& model, const data_set& d,
                  const batch& expected, bool attention_only) {
    const std::size_t width = expected.shape(1);
    auto& out = retain<std::vector<float>>(d.a.shape(0) * width);
    s.add_batch(w, name, d.a, d.b, d.gate_a, d.gate_b, expected,
                [&model, &out, width, attention_only](const batch& a, const batch& b) {
                    if (attention_only)
                        model.attention(a.data(), b.data(), a.shape(0), out.data());
                    else
                        model.predict(a.data(), b.data(), a.shape(0), out.data());
                    return std::span<const float>(out.data(), a.shape(0) * width);
                });
}

// A baseline's predict on one sample (sample i of the data).
template <class Baseline>
void add_baseline_single(suite& s, workload& w, const char* name, Baseline& model,
                         const data_set& d, const batch& expected) {
    s.add_single(w, name, expected, [&model, &d, out = 0.f](std::size_t i) mutable {
        model.predict(d.a.data() + i * input1_features, d.b.data() + i * input2_features, 1, &out);
        return out;
    });
}

std::string samples_title(const char* what) {
    return std::string(what) + ", " + std::to_string(batch_samples) + " samples";
}

// The seed model (width 96): predict, attention sub-model and one sample, every contender.
void add_seed_workloads(suite& s, const data_set& d) {
    auto& model = retain<seed::model_type>(seed::build());
    randomize_biases(model, 96);
    auto& attention = retain<decltype(attention_submodel(model))>(attention_submodel(model));
    const std::vector<xt::xarray<float>> weights = model.get_weights();
    const attention_weights w = read_attention_weights(weights);

    auto& eigen = retain<eigen_batched>(w);
    auto& fixed = retain<eigen_fixed<10, 20, 32, 64>>(w);
    auto& scalar = retain<scalar_loop>(w);
#ifdef XFUSE_BENCH_HAVE_TORCH
    auto& torch = retain<torch_model>(w);
#endif

    const auto add_batch_workload = [&](workload spec, const auto& xfuse_model,
                                        bool attention_only) {
        workload& work = s.add_workload(std::move(spec));
        const batch& expected = expected_output(xfuse_model, weights, d, attention_only, work.name);
        add_xfuse(s, work, xfuse_model, d, expected);
        add_baseline(s, work, "eigen_batched", eigen, d, expected, attention_only);
        add_baseline(s, work, "eigen_fixed", fixed, d, expected, attention_only);
        add_baseline(s, work, "scalar_loop", scalar, d, expected, attention_only);
#ifdef XFUSE_BENCH_HAVE_TORCH
        add_baseline(s, work, "libtorch", torch, d, expected, attention_only);
#endif
    };
    add_batch_workload(
        {"seed_predict", samples_title("seed predict"), batch_samples, model_flops(w)}, model,
        false);
    add_batch_workload(
        {"attention", samples_title("attention sub-model"), batch_samples, attention_flops(w)},
        attention, true);

    // One sample per call, from fixed-size tensors (no heap) for xfuse.
    workload& one = s.add_workload({"one_sample", "seed predict, one sample", 1, model_flops(w)});
    const batch& expected = expected_output(model, weights, d, false, one.name);
    using sample1 = xt::xtensor_fixed<float, xt::xshape<input1_features>>;
    using sample2 = xt::xtensor_fixed<float, xt::xshape<input2_features>>;
    auto& samples1 = retain<std::vector<sample1>>(gate_samples);
    auto& samples2 = retain<std::vector<sample2>>(gate_samples);
    for (std::size_t i = 0; i < gate_samples; ++i) {
        samples1[i] = xt::view(d.a, i, xt::all());
        samples2[i] = xt::view(d.b, i, xt::all());
    }
    s.add_single(one, "xfuse_fused", expected, [&model, &samples1, &samples2](std::size_t i) {
        return model(xf::fused, samples1[i], samples2[i]);
    });
    s.add_single(one, "xfuse_unfused", expected, [&model, &samples1, &samples2](std::size_t i) {
        return model(xf::unfused, samples1[i], samples2[i]);
    });
    add_baseline_single(s, one, "eigen_fixed", fixed, d, expected);
    add_baseline_single(s, one, "scalar_loop", scalar, d, expected);
#ifdef XFUSE_BENCH_HAVE_TORCH
    add_baseline_single(s, one, "libtorch", torch, d, expected);
#endif
}

// Predict at attention width W: where fusion pays and where it stops paying.
template <std::size_t W>
void add_width_workload(suite& s, const data_set& d) {
    auto& model = retain<decltype(build_width_model<W>())>(build_width_model<W>());
    randomize_biases(model, unsigned(W));
    const std::vector<xt::xarray<float>> weights = model.get_weights();
    const attention_weights w = read_attention_weights(weights);
    workload& work = s.add_workload({"width_" + std::to_string(W),
                                     samples_title(("predict, width " + std::to_string(W)).c_str()),
                                     batch_samples, model_flops(w)});
    const batch& expected = expected_output(model, weights, d, false, work.name);
    add_xfuse(s, work, model, d, expected);
    add_baseline(s, work, "eigen_batched", retain<eigen_batched>(w), d, expected, false);
#ifdef XFUSE_BENCH_HAVE_TORCH
    add_baseline(s, work, "libtorch", retain<torch_model>(w), d, expected, false);
#endif
}

// The targets, measured: "name: wanted" and the value.
void print_targets(std::ostream& os, const collecting_reporter& results, const suite& s) {
    os << "\n### Targets\n\n| target | measured | met |\n|---|---:|---|\n";
    const auto ratio_row = [&](const char* target, const char* work, const char* contender,
                               double wanted) {
        const workload* w = s.find(work);
        const auto ratio = w ? time_ratio(results, *w, contender) : std::nullopt;
        os << "| " << target << " | " << (ratio ? format("%.2fx", *ratio) : "-") << " | "
           << (ratio ? (*ratio >= wanted ? "yes" : "no") : "-") << " |\n";
    };
    const auto peak_row = [&](const char* target, const char* work, double wanted) {
        const auto r = results.find(std::string(work) + "/" + reference_contender);
        os << "| " << target << " | " << (r ? format("%.1f %%", r->percent_of_peak) : "-") << " | "
           << (r ? (r->percent_of_peak >= wanted ? "yes" : "no") : "-") << " |\n";
    };
    peak_row("seed predict, xfuse fused: >= 80 % of FP32 peak", "seed_predict", 80);
    ratio_row("seed predict: >= 1.5x faster than Eigen batched", "seed_predict", "eigen_batched",
              1.5);
    ratio_row("attention sub-model: >= 1.5x faster than Eigen batched", "attention",
              "eigen_batched", 1.5);
    ratio_row("one sample: >= 1.9x faster than Eigen fixed-size", "one_sample", "eigen_fixed", 1.9);
    ratio_row("seed predict: fusion on/off > 1 (unfused time / fused time)", "seed_predict",
              unfused_contender, 1.0 + 1e-9);
    const auto epoch = results.find(std::string(training_workload) + "/" + reference_contender);
    os << "| train one epoch, xfuse: <= 7 ms | "
       << (epoch ? format_time(epoch->seconds_per_call) : "-") << " | "
       << (epoch ? (epoch->seconds_per_call <= 7e-3 ? "yes" : "no") : "-") << " |\n";
    peak_row("train one epoch, xfuse: >= 70 % of FP32 peak (3x the forward FLOPs)",
             training_workload, 70);
    ratio_row("train one epoch: > 1.5x faster than the hand-written Eigen trainer",
              training_workload, "eigen_batched", 1.5 + 1e-9);
}

// Google Benchmark's argv with this suite's defaults first, so the user's flags override them.
std::vector<char*> arguments_with_defaults(int argc, char** argv) {
    static std::string repetitions = "--benchmark_repetitions=5";
    static std::string aggregates = "--benchmark_report_aggregates_only=true";
    static std::string min_time = "--benchmark_min_time=0.2";  // the whole run in ~1.5 minutes
    // Repetitions of all rows in random order: a slow spell on the shared machine then spreads
    // over every contender instead of landing on whichever ran at that moment.
    static std::string interleave = "--benchmark_enable_random_interleaving=true";
    std::vector<char*> args{argv[0], repetitions.data(), aggregates.data(), min_time.data(),
                            interleave.data()};
    args.insert(args.end(), argv + 1, argv + argc);
    args.push_back(nullptr);
    return args;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args = arguments_with_defaults(argc, argv);
    int count = int(args.size()) - 1;
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data()))
        return 1;

    const peak_measurement peak = measure_fma_peak();
    std::cout << "xfuse_benchmarks: single thread, float32\n"
              << "  compiler: " << __VERSION__ << ", flags: " << XFUSE_BENCH_FLAGS << '\n'
              << "  xsimd native batch: " << peak.arch << ", " << peak.lanes << " floats\n"
              << "  Eigen " << EIGEN_WORLD_VERSION << '.' << EIGEN_MAJOR_VERSION << '.'
              << EIGEN_MINOR_VERSION << " (" << Eigen::SimdInstructionSetsInUse() << ")\n"
#ifdef XFUSE_BENCH_HAVE_TORCH
              << "  LibTorch: yes (one thread, inference mode)\n"
#else
              << "  LibTorch: not found at configure time (no libtorch column)\n"
#endif
              << "  FP32 peak of one core: " << format("%.1f", peak.gflops)
              << " GFLOP/s (median of " << peak.runs << " runs of xsimd::fma on "
              << peak.accumulators << " independent accumulators)\n"
              << "  correctness gate: every contender within " << gate_tolerance
              << " of xfuse fused on " << gate_samples
              << " samples, xfuse fused within it of a double-precision reference\n";

    suite s(peak.gflops);
    const data_set& d = retain<data_set>(make_data());
    add_seed_workloads(s, d);
    add_width_workload<16>(s, d);
    add_width_workload<32>(s, d);
    add_width_workload<64>(s, d);
    add_width_workload<96>(s, d);
    add_width_workload<128>(s, d);
    add_width_workload<256>(s, d);
    add_training_workload(s, d.a, d.b);
    add_transformer_workloads(s);
    std::cout << "  correctness gate: passed\n" << std::endl;

    collecting_reporter results;
    benchmark::RunSpecifiedBenchmarks(&results);
    std::cout << "\n## Results (FP32 peak " << format("%.1f", peak.gflops) << " GFLOP/s)\n";
    print_result_tables(std::cout, results, s);
    print_targets(std::cout, results, s);
    benchmark::Shutdown();
    return 0;
}
