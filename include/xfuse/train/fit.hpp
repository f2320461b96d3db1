// fit() and evaluate() over a trainer (train/trainer.hpp), as Keras' Model.fit/evaluate:
// epochs of shuffled batches, the progress display, callbacks, History,
// and validation on the last rows. Data checks happen before any weight changes.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../graph/parameters.hpp"
#include "trainer.hpp"

namespace xfuse {

namespace detail {

// The rows [first, first + count) of `data` as a data set of their own.
template <std::size_t N>
training_data<N> rows_of(const training_data<N>& data, const std::array<std::size_t, N>& sizes,
                         std::size_t first, std::size_t count) {
    training_data<N> part = data;
    for (std::size_t i = 0; i < N; ++i)
        part.inputs[i] += first * sizes[i];
    part.labels += first * data.labels_per_sample();
    part.samples = count;
    return part;
}

// Batch-size-weighted mean loss and the metrics over `data` in order, batch by batch.
template <class Graph>
std::vector<double> evaluate_batches(trainer<Graph>& t, metric_list& metrics,
                                     const training_data<trainer<Graph>::input_count>& data) {
    metrics.reset();
    std::vector<std::size_t> rows(t.batch_size());
    double weighted = 0;
    for (std::size_t first = 0; first < data.samples; first += t.batch_size()) {
        const std::size_t count = std::min(t.batch_size(), data.samples - first);
        std::iota(rows.begin(), rows.begin() + count, first);
        weighted += t.test_batch(data, std::span(rows.data(), count)) * double(count);
    }
    std::vector<double> result{data.samples ? weighted / double(data.samples) : 0.0};
    for (double m : metrics.results())
        result.push_back(m);
    return result;
}

inline void add_logs(logs& l, const std::string& prefix, const std::vector<std::string>& names,
                     const std::vector<double>& values) {
    l.set(prefix + "loss", values[0]);
    for (std::size_t i = 0; i < names.size(); ++i)
        l.set(prefix + names[i], values[i + 1]);
}

}  // namespace detail

template <class Graph>
History fit_loop(trainer<Graph>& t, training_config& config,
                 const training_data<trainer<Graph>::input_count>& data,
                 const std::array<std::size_t, trainer<Graph>::input_count>& input_sizes,
                 const FitOptions& options, training_control& control,
                 std::ostream& os = std::cout) {
    const std::size_t training_rows = options.training_rows(data.samples);
    if (training_rows == 0)
        throw std::invalid_argument(
            "xfuse: Model::fit: validation_split " + std::to_string(options.validation_split) +
            " leaves no rows of " + std::to_string(data.samples) + " to train on");
    const auto train = detail::rows_of(data, input_sizes, 0, training_rows);
    const auto validation =
        detail::rows_of(data, input_sizes, training_rows, data.samples - training_rows);
    const std::size_t steps = (training_rows + options.batch_size - 1) / options.batch_size;
    const std::vector<std::string> metric_names = config.metrics.names();

    History history;
    history.params = {options.verbose, options.epochs, steps};
    auto progress = progress_logger::for_stream(os, options.verbose, options.epochs, steps);
    // Unseeded shuffling draws from xfuse's global generator, as Keras' unseeded shuffle does.
    const std::uint64_t seed = options.seed ? *options.seed : detail::next_initialization_seed();
    std::vector<std::size_t> order(training_rows);

    for (const auto& callback : options.callbacks)
        callback->on_train_begin(control);
    logs epoch_logs;
    for (int epoch = options.initial_epoch; epoch < options.epochs && !control.stop_training;
         ++epoch) {
        progress.on_epoch_begin(epoch);
        t.begin_epoch(seed, std::uint64_t(epoch));
        for (const auto& callback : options.callbacks)
            callback->on_epoch_begin(epoch, control);
        std::iota(order.begin(), order.end(), std::size_t{0});
        if (options.shuffle) {
            std::seed_seq epoch_seed{std::uint32_t(seed), std::uint32_t(seed >> 32),
                                     std::uint32_t(epoch)};
            std::mt19937_64 engine(epoch_seed);
            std::shuffle(order.begin(), order.end(), engine);
        }
        config.metrics.reset();
        double weighted_loss = 0;
        std::size_t seen = 0;
        logs batch_logs;
        for (std::size_t step = 0; step < steps && !control.stop_training; ++step) {
            const std::size_t first = step * options.batch_size;
            const std::size_t count = std::min(options.batch_size, training_rows - first);
            const double loss = t.train_batch(train, std::span(order.data() + first, count));
            weighted_loss += loss * double(count);
            seen += count;
            batch_logs = logs{};
            std::vector<double> values{weighted_loss / double(seen)};
            for (double m : config.metrics.results())
                values.push_back(m);
            detail::add_logs(batch_logs, "", metric_names, values);
            progress.on_train_batch_end(step, batch_logs);
            for (const auto& callback : options.callbacks)
                callback->on_train_batch_end(int(step), batch_logs, control);
        }
        epoch_logs = batch_logs;
        if (validation.samples > 0)
            detail::add_logs(epoch_logs, "val_", metric_names,
                             detail::evaluate_batches(t, config.metrics, validation));
        progress.on_epoch_end(epoch_logs);
        for (const auto& callback : options.callbacks)
            callback->on_epoch_end(epoch, epoch_logs, control);
        history.on_epoch_end(epoch, epoch_logs);
    }
    for (const auto& callback : options.callbacks)
        callback->on_train_end(epoch_logs, control);
    return history;
}

}  // namespace xfuse
