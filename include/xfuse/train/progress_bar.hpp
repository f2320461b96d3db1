// The progress display of fit(): tf.keras 2.x's Progbar and ProgbarLogger
// (keras/utils/generic_utils.py, keras/callbacks.py, TF 2.7-2.15).
//
//   Epoch 1/10
//   250/250 [==============================] - 2s 3ms/step - loss: 0.6931 - val_loss: 0.6930
//
// verbose=1: the bar `%{d}d/%d [` + '=' * (w-1) + ('>' running | '=' done) + '.' * rest + `]`,
// width 30; while running ` - ETA: 5s` (`%d:%02d`, `%d:%02d:%02d` past a minute, an hour), at
// the end ` - 2s 3ms/step` (elapsed .0f seconds, then the step time as `Ns`, `Nms` or `Nus`,
// excluding the first step once there are two). Values ` - name: v` with .4f, or .4e when
// |v| <= 1e-3. On a terminal each update redraws the line in place as Keras does ("\b" over the
// previous width, then "\r", padded with spaces when shorter), at most every 0.05 s and always
// for the final one; on anything else only the final line per epoch is written (Keras would
// write one line per update; a log file wants one). verbose=2: only
// `250/250 - 1s - loss: 0.6931 - 1s/epoch - 3ms/step` per epoch (TF 2.7+; there the value uses
// .4e when v <= 1e-3, negative values included, as Keras' verbose=2 branch). verbose=0: nothing.
// `Epoch i/N` is printed at each epoch's start when epochs > 1 and verbose != 0.
//
// The clock (seconds, monotonic) and the "is a terminal" flag are injected so that tests check
// exact strings; progress_logger::for_stream() picks the real ones.
#pragma once

#include <unistd.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <ostream>
#include <string>

#include "logs.hpp"

namespace xfuse {

namespace detail {
inline std::string format(const char* pattern, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}
// Keras' Progbar._format_time: " 3ms/step", " 2s/epoch", " 120us/step".
inline std::string format_time(double seconds, const char* unit) {
    if (seconds >= 1 || seconds == 0)
        return format(" %.0f", seconds) + "s/" + unit;
    if (seconds >= 1e-3)
        return format(" %.0f", seconds * 1e3) + "ms/" + unit;
    return format(" %.0f", seconds * 1e6) + "us/" + unit;
}
inline std::string format_eta(double eta) {
    char buffer[64];
    const long s = static_cast<long>(eta);  // Python's %d truncates
    if (eta > 3600)
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s % 3600) / 60, s % 60);
    else if (eta > 60)
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%lds", s);
    return buffer;
}
inline std::string format_value(double v, bool absolute) {
    return format((absolute ? std::abs(v) : v) > 1e-3 ? " %.4f" : " %.4e", v);
}
}  // namespace detail

// One epoch's bar: Keras' Progbar(target, width=30, interval=0.05, unit_name="step") with every
// value stateful (fit's logs already hold running means).
class progress_bar {
  public:
    progress_bar(std::ostream& os, std::size_t target, int verbose, bool dynamic,
                 std::function<double()> clock)
        : os_(os),
          target_(target),
          verbose_(verbose),
          dynamic_(dynamic),
          clock_(std::move(clock)),
          start_(clock_()) {}

    void update(std::size_t current, const logs& values, bool finalize) {
        const double now = clock_();
        const std::string elapsed = detail::format(" - %.0fs", now - start_);
        if (current == target_)
            time_at_epoch_end_ = now;
        if (verbose_ == 1) {
            if (!finalize && now - last_update_ < interval)
                return;
            const double per_step = estimate_step_duration(current, now);
            if (finalize || dynamic_)
                draw(current, values, finalize,
                     finalize
                         ? elapsed + detail::format_time(per_step, "step")
                         : " - ETA: " + detail::format_eta(per_step * double(target_ - current)));
        } else if (verbose_ == 2 && finalize) {
            std::string info = count(current) + elapsed;
            for (const auto& [name, v] : values.values)
                info += " - " + name + ":" + detail::format_value(v, false);
            if (time_at_epoch_end_) {
                const double per_epoch = *time_at_epoch_end_ - start_;
                info += " -" + detail::format_time(per_epoch, "epoch");
                info += " -" + detail::format_time(per_epoch / double(target_), "step");
            }
            os_ << info << "\n" << std::flush;
        }
        last_update_ = now;
    }

  private:
    static constexpr std::size_t width = 30;
    static constexpr double interval = 0.05;

    void draw(std::size_t current, const logs& values, bool finalize, std::string info) {
        std::string message;
        if (dynamic_)
            message = std::string(total_width_, '\b') + "\r";
        const std::size_t previous_width = total_width_;
        std::string bar = count(current) + " [";
        const std::size_t done = target_ ? width * current / target_ : 0;
        if (done > 0)
            bar += std::string(done - 1, '=') + (current < target_ ? ">" : "=");
        bar += std::string(width - done, '.') + "]";
        for (const auto& [name, v] : values.values)
            info += " - " + name + ":" + detail::format_value(v, true);
        total_width_ = bar.size() + info.size();
        if (previous_width > total_width_)
            info += std::string(previous_width - total_width_, ' ');
        os_ << message << bar << info << (finalize ? "\n" : "") << std::flush;
    }

    std::string count(std::size_t current) const {
        const int digits = static_cast<int>(std::log10(double(target_))) + 1;
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%*zu/%zu", digits, current, target_);
        return buffer;
    }
    // Keras: the first step (graph tracing there, warm caches here) is left out once possible.
    double estimate_step_duration(std::size_t current, double now) {
        if (current == 0)
            return 0;
        double per_step = (now - start_) / double(current);
        if (after_first_step_ && current > 1)
            per_step = (now - *after_first_step_) / double(current - 1);
        if (current == 1)
            after_first_step_ = now;
        return per_step;
    }

    std::ostream& os_;
    std::size_t target_;
    int verbose_;
    bool dynamic_;
    std::function<double()> clock_;
    double start_;
    double last_update_ = -std::numeric_limits<double>::infinity();
    std::optional<double> after_first_step_;
    std::optional<double> time_at_epoch_end_;
    std::size_t total_width_ = 0;
};

// Keras' ProgbarLogger: `Epoch i/N`, a bar per epoch, batch updates, the final line with the
// validation values. fit() calls these at the matching points.
class progress_logger {
  public:
    progress_logger(std::ostream& os, int verbose, int epochs, std::size_t steps, bool dynamic,
                    std::function<double()> clock)
        : os_(os),
          verbose_(verbose),
          epochs_(epochs),
          steps_(steps),
          dynamic_(dynamic),
          clock_(std::move(clock)) {}

    // Real clock; dynamic display when `os` is std::cout/std::clog/std::cerr on a terminal.
    static progress_logger for_stream(std::ostream& os, int verbose, int epochs,
                                      std::size_t steps) {
        int fd = -1;
        if (&os == &std::cout)
            fd = STDOUT_FILENO;
        else if (&os == &std::cerr || &os == &std::clog)
            fd = STDERR_FILENO;
        const bool terminal = fd >= 0 && ::isatty(fd);
        return progress_logger(os, verbose, epochs, steps, terminal, [] {
            return std::chrono::duration<double>(
                       std::chrono::steady_clock::now().time_since_epoch())
                .count();
        });
    }

    void on_epoch_begin(int epoch) {
        if (verbose_ && epochs_ > 1)
            os_ << "Epoch " << epoch + 1 << "/" << epochs_ << "\n";
        if (verbose_)
            bar_.emplace(os_, steps_, verbose_, dynamic_, clock_);
        seen_ = 0;
    }
    // `batch` is 0-based; logs hold the running loss and metrics.
    void on_train_batch_end(std::size_t batch, const logs& l) {
        seen_ = batch + 1;
        if (bar_)
            bar_->update(seen_, l, false);
    }
    void on_epoch_end(const logs& l) {
        if (bar_)
            bar_->update(steps_, l, true);
    }

  private:
    std::ostream& os_;
    int verbose_;
    int epochs_;
    std::size_t steps_;
    bool dynamic_;
    std::function<double()> clock_;
    std::optional<progress_bar> bar_;
    std::size_t seen_ = 0;
};

}  // namespace xfuse
