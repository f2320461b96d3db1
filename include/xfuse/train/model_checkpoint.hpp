// xf::ModelCheckpoint: Keras' ModelCheckpoint callback (tf.keras 2.15 keras/callbacks.py) for
// fit(), saving the model it was constructed with (a reference: the model must outlive it;
// callbacks see fit() only through training_control, which knows no model):
//
//   auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
//       model, xf::ModelCheckpoint::options{.filepath = "ckpt-{epoch:02d}.h5"});
//   model.fit(x, y, {.epochs = 10, .callbacks = {checkpoint}});
//
// As Keras:
//  * filepath is formatted with epoch (1-based) and the logs (train/checkpoint_filepath.hpp), and
//    with batch (1-based) when saving every save_freq batches; a missing directory is created.
//  * save_freq "epoch" saves at every epoch's end; an integer N saves after every N-th batch
//    (counted across epochs), with the batch's logs.
//  * save_best_only saves only when `monitor` improves on the best value seen (strictly: less
//    in "min" mode, greater in "max"); an epoch whose logs lack the monitor saves nothing (Keras
//    warns). The best value starts at initial_value_threshold, or +-infinity, and is kept across
//    fit() calls, as Keras keeps it for the callback's lifetime.
//  * mode "auto" maximises when the monitor's name contains "acc" or starts with "fmeasure"
//    (Keras' ModelCheckpoint rule, looser than EarlyStopping's suffix rule), minimises otherwise.
//  * save_weights_only: model.save_weights; otherwise model.save_checkpoint (weights and the
//    optimizer state, where Keras saves the whole model: xfuse's architecture is the C++ type).
// Saving goes through model.save_weights and model.save_checkpoint, which <xfuse/hdf5.hpp>
// defines: a program that constructs a ModelCheckpoint includes it and links xfuse::hdf5.
// Not provided: verbose messages, save_freq in samples, options for remote file systems. An
// unknown mode or save_freq is an error here (Keras falls back to "auto" with a warning).
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "callbacks.hpp"
#include "checkpoint_filepath.hpp"
#include "logs.hpp"

namespace xfuse {

class ModelCheckpoint : public Callback {
  public:
    struct options {
        std::string filepath;
        std::string monitor = "val_loss";
        bool save_best_only = false;
        bool save_weights_only = false;
        std::string mode = "auto";  // "auto", "min" or "max"
        std::variant<std::string, int> save_freq = "epoch";
        std::optional<double> initial_value_threshold{};
    };

    template <class Model>
    requires requires { typename Model::graph_type; }
    ModelCheckpoint(Model& model, options o)
        : options_(std::move(o)),
          filepath_(options_.filepath),
          save_([&model](const std::filesystem::path& path, bool weights_only) {
              if (weights_only)
                  model.save_weights(path);
              else
                  model.save_checkpoint(path);
          }) {
        if (options_.filepath.empty())
            throw std::invalid_argument("xfuse::ModelCheckpoint: filepath is empty");
        if (options_.mode != "auto" && options_.mode != "min" && options_.mode != "max")
            throw std::invalid_argument(
                "xfuse::ModelCheckpoint: mode must be \"auto\", \"min\" or \"max\", got \"" +
                options_.mode + "\"");
        if (const std::string* freq = std::get_if<std::string>(&options_.save_freq);
            freq && *freq != "epoch")
            throw std::invalid_argument(
                "xfuse::ModelCheckpoint: save_freq must be \"epoch\" or a number of batches, "
                "got \"" +
                *freq + "\"");
        if (const int* freq = std::get_if<int>(&options_.save_freq); freq && *freq < 1)
            throw std::invalid_argument(
                "xfuse::ModelCheckpoint: save_freq must be >= 1 batches, got " +
                std::to_string(*freq));
        const std::string& m = options_.monitor;
        maximise_ = options_.mode == "max" ||
                    (options_.mode == "auto" &&
                     (m.find("acc") != std::string::npos || m.starts_with("fmeasure")));
        best_ = options_.initial_value_threshold.value_or(
            maximise_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity());
    }

    void on_epoch_begin(int epoch, training_control&) override { current_epoch_ = epoch; }

    void on_train_batch_end(int batch, const logs& l, training_control&) override {
        const int* every = std::get_if<int>(&options_.save_freq);
        if (!every || ++batches_since_save_ < *every)
            return;
        batches_since_save_ = 0;
        save(current_epoch_, batch, l);
    }

    void on_epoch_end(int epoch, const logs& l, training_control&) override {
        if (std::holds_alternative<std::string>(options_.save_freq))
            save(epoch, std::nullopt, l);
    }

    const options& settings() const noexcept { return options_; }
    bool maximises() const noexcept { return maximise_; }
    double best() const noexcept { return best_; }
    // The file of the last save, empty before the first.
    const std::filesystem::path& last_saved() const noexcept { return last_saved_; }

  private:
    void save(int epoch, std::optional<int> batch, const logs& l) {
        if (options_.save_best_only) {
            const std::optional<double> current = l.get(options_.monitor);
            if (!current || !improves(*current))
                return;
            best_ = *current;
        }
        const std::filesystem::path path = filepath_.format([&](std::string_view name) {
            using value = checkpoint_filepath::value;
            if (name == "epoch")
                return std::optional<value>(value(epoch + 1LL));
            if (name == "batch" && batch)
                return std::optional<value>(value(*batch + 1LL));
            const std::optional<double> logged = l.get(name);
            return logged ? std::optional<value>(value(*logged)) : std::nullopt;
        });
        if (path.has_parent_path())
            std::filesystem::create_directories(path.parent_path());
        save_(path, options_.save_weights_only);
        last_saved_ = path;
    }

    // np.less / np.greater: NaN never improves.
    bool improves(double current) const { return maximise_ ? current > best_ : current < best_; }

    options options_;
    checkpoint_filepath filepath_;
    std::function<void(const std::filesystem::path&, bool)> save_;
    bool maximise_ = false;
    double best_ = 0;
    int current_epoch_ = 0;
    int batches_since_save_ = 0;
    std::filesystem::path last_saved_;
};

}  // namespace xfuse
