// The summary printed after the benchmarks: each row's median, and each contender's time
// relative to xfuse fused, as markdown tables to paste into benchmarks/README.md.
//
// Google Benchmark hands every run to the display reporter; this one keeps them while the
// console shows them as usual. A row's statistic is the median aggregate when repetitions ran
// (the machines are shared: a median shrugs off the odd slow run), or else the median of the
// single runs seen. Times are CPU time per call.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "suite.hpp"

namespace bench {

struct row_statistics {
    double seconds_per_call = 0;  // CPU time
    double ns_per_sample = 0, gflops = 0, percent_of_peak = 0;
    long long repetitions = 1;
};

class collecting_reporter : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            const std::string& name = run.run_name.function_name;
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median")
                medians_[name] = statistics_of(run);
            else if (run.run_type == Run::RT_Iteration && !run.error_occurred)
                singles_[name].push_back(statistics_of(run));
        }
        ConsoleReporter::ReportRuns(runs);
    }

    // The median of the row `workload/contender`, if it ran.
    std::optional<row_statistics> find(const std::string& name) const {
        if (const auto m = medians_.find(name); m != medians_.end())
            return m->second;
        const auto s = singles_.find(name);
        if (s == singles_.end() || s->second.empty())
            return std::nullopt;
        std::vector<row_statistics> runs = s->second;
        const auto middle = runs.begin() + long(runs.size() / 2);
        std::nth_element(runs.begin(), middle, runs.end(), [](const auto& a, const auto& b) {
            return a.seconds_per_call < b.seconds_per_call;
        });
        row_statistics median = *middle;
        median.repetitions = static_cast<long long>(runs.size());
        return median;
    }

  private:
    static row_statistics statistics_of(const Run& run) {
        const auto counter = [&](const char* key) {
            const auto c = run.counters.find(key);
            return c == run.counters.end() ? 0.0 : double(c->second);
        };
        return {run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit),
                counter("ns/sample"), counter("GFLOP/s"), counter("%peak"),
                static_cast<long long>(run.repetitions)};
    }

    std::map<std::string, row_statistics> medians_;
    std::map<std::string, std::vector<row_statistics>> singles_;
};

inline constexpr const char* reference_contender = "xfuse_fused";
inline constexpr const char* unfused_contender = "xfuse_unfused";

inline std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

inline std::string format_time(double seconds) {
    if (seconds >= 1e-3)
        return format("%.3g ms", seconds * 1e3);
    if (seconds >= 1e-6)
        return format("%.3g us", seconds * 1e6);
    return format("%.3g ns", seconds * 1e9);
}

// Time of `contender` over time of xfuse fused in `w` (> 1: xfuse fused is faster).
inline std::optional<double> time_ratio(const collecting_reporter& results, const workload& w,
                                        const std::string& contender) {
    const auto reference = results.find(w.name + "/" + reference_contender);
    const auto other = results.find(w.name + "/" + contender);
    if (!reference || !other || reference->seconds_per_call <= 0)
        return std::nullopt;
    return other->seconds_per_call / reference->seconds_per_call;
}

inline void print_result_tables(std::ostream& os, const collecting_reporter& results,
                                const suite& s) {
    os << "\n### Medians (CPU time per call)\n\n"
       << "| workload | contender | time | ns/sample | GFLOP/s | % of peak | time / xfuse fused |\n"
       << "|---|---|---:|---:|---:|---:|---:|\n";
    for (const workload& w : s.workloads())
        for (const std::string& c : w.contenders)
            if (const auto r = results.find(w.name + "/" + c)) {
                const auto ratio = time_ratio(results, w, c);
                os << "| " << w.title << " | " << c << " | " << format_time(r->seconds_per_call)
                   << " | " << format("%.1f", r->ns_per_sample) << " | "
                   << format("%.1f", r->gflops) << " | " << format("%.1f %%", r->percent_of_peak)
                   << " | " << (ratio ? format("%.2f", *ratio) : "-") << " |\n";
            }

    // One column per contender that ran, in the order they first appear.
    std::vector<std::string> columns;
    for (const workload& w : s.workloads())
        for (const std::string& c : w.contenders)
            if (c != reference_contender && results.find(w.name + "/" + c) &&
                std::find(columns.begin(), columns.end(), c) == columns.end())
                columns.push_back(c);
    os << "\n### Time relative to xfuse fused (> 1: xfuse fused is faster; xfuse_unfused is the "
          "fusion on/off ratio)\n\n| workload |";
    for (const std::string& c : columns)
        os << ' ' << c << " |";
    os << "\n|---|";
    for (std::size_t i = 0; i < columns.size(); ++i)
        os << "---:|";
    os << '\n';
    for (const workload& w : s.workloads()) {
        if (!results.find(w.name + "/" + reference_contender))
            continue;
        os << "| " << w.title << " |";
        for (const std::string& c : columns) {
            const auto ratio = time_ratio(results, w, c);
            os << ' ' << (ratio ? format("%.2fx", *ratio) : "-") << " |";
        }
        os << '\n';
    }
}

}  // namespace bench
