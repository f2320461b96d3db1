// Callbacks for fit(), with Keras' semantics (keras/callbacks.py, tf.keras 2.13-2.15 and
// tf-keras): EarlyStopping, TerminateOnNaN and LambdaCallback (user functions per hook).
//
// They act on the model only through `training_control`, which fit() (model/) fills: a
// stop_training flag fit() checks after each batch and epoch, as Keras' model.stop_training,
// and two functions to snapshot and restore the weights (for restore_best_weights). So this
// header does not depend on model/.
//
// EarlyStopping, as Keras:
//  * mode "auto" maximises when the monitor's name ends in "acc", "accuracy" or "auc" and
//    minimises otherwise; min_delta is taken as |min_delta|, and an improvement is
//    current + min_delta < best (min) or current - min_delta > best (max).
//  * Each epoch from start_from_epoch on with the monitor in the logs: wait += 1; on an
//    improvement best/best_epoch are updated (and a weight snapshot taken) and wait is reset to
//    0 only if the value also beats `baseline` (when set); an improving epoch never stops
//    training. Otherwise, when wait >= patience and epoch > 0, training stops, and with
//    restore_best_weights the best epoch's weights come back (a snapshot is taken at the first
//    monitored epoch, so there is always one).
//  * A missing monitor is skipped (Keras logs a warning).
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "logs.hpp"

namespace xfuse {

// One snapshot of every trainable weight, in the model's own flat layout.
using weights_snapshot = std::vector<std::vector<float>>;

struct training_control {
    bool stop_training = false;
    std::function<weights_snapshot()> snapshot_weights;
    std::function<void(const weights_snapshot&)> restore_weights;
};

class Callback {
  public:
    virtual ~Callback() = default;
    virtual void on_train_begin(training_control&) {}
    virtual void on_epoch_begin(int /*epoch*/, training_control&) {}
    virtual void on_train_batch_end(int /*batch*/, const logs&, training_control&) {}
    virtual void on_epoch_end(int /*epoch*/, const logs&, training_control&) {}
    virtual void on_train_end(const logs&, training_control&) {}
};

class EarlyStopping : public Callback {
  public:
    struct options {
        std::string monitor = "val_loss";
        double min_delta = 0;
        int patience = 0;
        std::string mode = "auto";  // "auto", "min" or "max"
        std::optional<double> baseline{};
        bool restore_best_weights = false;
        int start_from_epoch = 0;
    };

    EarlyStopping() : EarlyStopping(options{}) {}
    explicit EarlyStopping(options o) : options_(std::move(o)) {
        if (options_.mode != "auto" && options_.mode != "min" && options_.mode != "max")
            throw std::invalid_argument(
                "xfuse::EarlyStopping: mode must be \"auto\", \"min\" or "
                "\"max\", got \"" +
                options_.mode + "\"");
        if (options_.patience < 0)
            throw std::invalid_argument("xfuse::EarlyStopping: patience must be >= 0, got " +
                                        std::to_string(options_.patience));
        const auto ends_with = [&](const std::string& suffix) {
            const std::string& m = options_.monitor;
            return m.size() >= suffix.size() &&
                   m.compare(m.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        maximise_ = options_.mode == "max" ||
                    (options_.mode == "auto" &&
                     (ends_with("acc") || ends_with("accuracy") || ends_with("auc")));
    }

    void on_train_begin(training_control&) override {
        wait_ = 0;
        stopped_epoch_ = 0;
        best_ = maximise_ ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
        best_weights_.reset();
        best_epoch_ = 0;
    }

    void on_epoch_end(int epoch, const logs& l, training_control& control) override {
        const std::optional<double> current = l.get(options_.monitor);
        if (!current || epoch < options_.start_from_epoch)
            return;
        if (options_.restore_best_weights && !best_weights_) {
            best_weights_ = snapshot(control);  // the current weights are the best so far
            best_epoch_ = epoch;
        }
        ++wait_;
        if (improves(*current, best_)) {
            best_ = *current;
            best_epoch_ = epoch;
            if (options_.restore_best_weights)
                best_weights_ = snapshot(control);
            if (!options_.baseline || improves(*current, *options_.baseline))
                wait_ = 0;
            return;
        }
        if (wait_ >= options_.patience && epoch > 0) {
            stopped_epoch_ = epoch;
            control.stop_training = true;
            if (options_.restore_best_weights && best_weights_ && control.restore_weights)
                control.restore_weights(*best_weights_);
        }
    }

    const options& settings() const noexcept { return options_; }
    bool maximises() const noexcept { return maximise_; }
    int wait() const noexcept { return wait_; }
    int stopped_epoch() const noexcept { return stopped_epoch_; }
    int best_epoch() const noexcept { return best_epoch_; }
    double best() const noexcept { return best_; }

  private:
    bool improves(double value, double reference) const {
        const double delta = std::abs(options_.min_delta);
        return maximise_ ? value - delta > reference : value + delta < reference;
    }
    static std::optional<weights_snapshot> snapshot(training_control& control) {
        if (!control.snapshot_weights)
            return weights_snapshot{};
        return control.snapshot_weights();
    }

    options options_;
    bool maximise_ = false;
    int wait_ = 0;
    int stopped_epoch_ = 0;
    int best_epoch_ = 0;
    double best_ = std::numeric_limits<double>::infinity();
    std::optional<weights_snapshot> best_weights_;
};

// Keras' TerminateOnNaN: stops as soon as a batch's loss is NaN or infinite.
class TerminateOnNaN : public Callback {
  public:
    void on_train_batch_end(int batch, const logs& l, training_control& control) override {
        const std::optional<double> loss = l.get("loss");
        if (loss && !std::isfinite(*loss)) {
            terminated_at_ = batch;
            control.stop_training = true;
        }
    }
    std::optional<int> terminated_at() const noexcept { return terminated_at_; }

  private:
    std::optional<int> terminated_at_;
};

// Keras' LambdaCallback: user functions for the hooks that matter here. They may set
// control.stop_training.
class LambdaCallback : public Callback {
  public:
    struct functions {
        std::function<void(int, const logs&, training_control&)> on_epoch_end{};
        std::function<void(int, const logs&, training_control&)> on_batch_end{};
        std::function<void(int, training_control&)> on_epoch_begin{};
    };

    explicit LambdaCallback(functions f) : f_(std::move(f)) {}

    void on_epoch_begin(int epoch, training_control& c) override {
        if (f_.on_epoch_begin)
            f_.on_epoch_begin(epoch, c);
    }
    void on_train_batch_end(int batch, const logs& l, training_control& c) override {
        if (f_.on_batch_end)
            f_.on_batch_end(batch, l, c);
    }
    void on_epoch_end(int epoch, const logs& l, training_control& c) override {
        if (f_.on_epoch_end)
            f_.on_epoch_end(epoch, l, c);
    }

  private:
    functions f_;
};

using callback_list = std::vector<std::shared_ptr<Callback>>;

}  // namespace xfuse
