// Metrics as Keras' stateful metric objects (keras/metrics/accuracy_metrics.py,
// regression_metrics.py): update() over each batch, result() = mean over every sample seen since
// the last reset(), which fit() calls at each epoch's start. BinaryAccuracy, CategoricalAccuracy,
// SparseCategoricalAccuracy, MeanAbsoluteError.
//
//   model.compile(opt, loss, xf::metrics(xf::BinaryAccuracy{}));
//
// Names are what Keras prints for the class objects: the snake_case class name
// ("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
// "mean_absolute_error"). Keras prints "accuracy" only for the string alias
// metrics=["accuracy"], which has no C++ spelling here: set `.name = "accuracy"` to get it.
// Metrics read the model's output (probabilities), never logits. Per sample, a value is the
// mean over the last axis (binary accuracy and MAE), then samples count equally (Keras'
// MeanMetricWrapper with no sample weights); totals are double.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "losses.hpp"  // loss_batch: the same view of labels and predictions

namespace xfuse {

namespace detail {
struct mean_state {
    double total = 0;
    double count = 0;
    double result() const { return count > 0 ? total / count : 0.0; }  // divide_no_nan
    void reset() { total = count = 0; }
};

// First index of the largest value, as tf.argmax.
inline std::size_t argmax(const float* row, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < n; ++j)
        if (row[j] > row[best])
            best = j;
    return best;
}

inline void check_metric_labels(const loss_batch& b, std::size_t expected,
                                const std::string& name) {
    if (b.label_cols != expected)
        throw std::invalid_argument("xfuse: metric " + name + ": labels have " +
                                    std::to_string(b.label_cols) + " columns, expected " +
                                    std::to_string(expected));
}
}  // namespace detail

struct BinaryAccuracy {
    float threshold = 0.5f;
    std::string name = "binary_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) {
        detail::check_metric_labels(b, b.cols, name);
        for (std::size_t r = 0; r < b.rows; ++r) {
            double hits = 0;
            for (std::size_t j = 0; j < b.cols; ++j) {
                const float predicted =
                    b.predictions[r * b.pred_stride + j] > threshold ? 1.f : 0.f;
                hits += predicted == b.labels[r * b.label_stride + j] ? 1 : 0;
            }
            state.total += hits / static_cast<double>(b.cols);
        }
        state.count += static_cast<double>(b.rows);
    }
};

struct CategoricalAccuracy {
    std::string name = "categorical_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) {
        detail::check_metric_labels(b, b.cols, name);
        for (std::size_t r = 0; r < b.rows; ++r)
            state.total += detail::argmax(b.labels + r * b.label_stride, b.cols) ==
                                   detail::argmax(b.predictions + r * b.pred_stride, b.cols)
                               ? 1
                               : 0;
        state.count += static_cast<double>(b.rows);
    }
};

struct SparseCategoricalAccuracy {
    std::string name = "sparse_categorical_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) {
        detail::check_metric_labels(b, 1, name);
        for (std::size_t r = 0; r < b.rows; ++r)
            state.total +=
                b.labels[r * b.label_stride] == static_cast<float>(detail::argmax(
                                                    b.predictions + r * b.pred_stride, b.cols))
                    ? 1
                    : 0;
        state.count += static_cast<double>(b.rows);
    }
};

// The metric (keras.metrics.MeanAbsoluteError); the loss of the same name is in losses.hpp.
struct MeanAbsoluteErrorMetric {
    std::string name = "mean_absolute_error";
    detail::mean_state state{};

    void update(const loss_batch& b) {
        detail::check_metric_labels(b, b.cols, name);
        for (std::size_t r = 0; r < b.rows; ++r) {
            double sum = 0;
            for (std::size_t j = 0; j < b.cols; ++j)
                sum += std::abs(b.predictions[r * b.pred_stride + j] -
                                b.labels[r * b.label_stride + j]);
            state.total += sum / static_cast<double>(b.cols);
        }
        state.count += static_cast<double>(b.rows);
    }
};

using any_metric = std::variant<BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                MeanAbsoluteErrorMetric>;

// What compile() stores: the metrics in the order given (the order logs and the progress bar
// show them in).
struct metric_list {
    std::vector<any_metric> items;

    void update(const loss_batch& b) {
        for (auto& m : items)
            std::visit([&](auto& metric) { metric.update(b); }, m);
    }
    void reset() {
        for (auto& m : items)
            std::visit([](auto& metric) { metric.state.reset(); }, m);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& m : items)
            out.push_back(std::visit([](const auto& metric) { return metric.name; }, m));
        return out;
    }
    std::vector<double> results() const {
        std::vector<double> out;
        for (const auto& m : items)
            out.push_back(std::visit([](const auto& metric) { return metric.state.result(); }, m));
        return out;
    }
};

namespace detail {
template <class Metric>
Metric as_metric(Metric m) {
    return m;
}
// xf::metrics(xf::MeanAbsoluteError{}) reads as Keras' metrics=[MeanAbsoluteError()].
inline MeanAbsoluteErrorMetric as_metric(MeanAbsoluteError) {
    return {};
}
}  // namespace detail

template <class... Metrics>
metric_list metrics(Metrics... m) {
    return metric_list{{any_metric(detail::as_metric(std::move(m)))...}};
}

}  // namespace xfuse
