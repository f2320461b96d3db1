// Metrics as Keras' stateful metric objects (keras/metrics/accuracy_metrics.py,
// regression_metrics.py): update() over each batch, result() = mean over every row seen since
// the last reset(), which fit() calls at each epoch's start. BinaryAccuracy, CategoricalAccuracy,
// SparseCategoricalAccuracy, MeanAbsoluteError.
//
//   model.compile(opt, loss, xf::metrics(xf::BinaryAccuracy{}));
//
// Names are what Keras prints for the class objects: the snake_case class name
// ("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
// "mean_absolute_error"). Keras prints "accuracy" only for the string alias
// metrics=["accuracy"], which has no C++ spelling here: set `.name = "accuracy"` to get it.
// Metrics read the model's output (probabilities), never logits. Per row, a value is the mean
// over the last axis (binary accuracy and MAE), then rows count equally (Keras'
// MeanMetricWrapper with no sample weights counts every element of its values); totals are
// double. A row is a sample of a rank-1 output, or one position of a sample of a (T, C) one.
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

// A row's value as the mean over its last axis of a value per column (Keras' metrics reduce
// the last axis first).
template <class PerColumn>
double mean_over_columns(const float* y, const float* p, std::size_t n, PerColumn per_column) {
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j)
        sum += per_column(y[j], p[j]);
    return sum / static_cast<double>(n);
}

// Adds a batch to a mean over rows: the metric's value for each row of labels y and
// predictions p (n columns), every row counting once.
template <class Metric>
void add_samples(Metric& metric, const loss_batch& b, std::size_t label_cols) {
    check_metric_labels(b, label_cols, metric.name);
    for (std::size_t r = 0; r < b.rows; ++r)
        metric.state.total += metric.sample_value(b.labels + r * b.label_stride,
                                                  b.predictions + r * b.pred_stride, b.cols);
    metric.state.count += static_cast<double>(b.rows);
}
}  // namespace detail

struct BinaryAccuracy {
    float threshold = 0.5f;
    std::string name = "binary_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) { detail::add_samples(*this, b, b.cols); }
    double sample_value(const float* y, const float* p, std::size_t n) const {
        return detail::mean_over_columns(y, p, n, [&](float label, float predicted) {
            return (predicted > threshold ? 1.f : 0.f) == label ? 1.0 : 0.0;
        });
    }
};

struct CategoricalAccuracy {
    std::string name = "categorical_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) { detail::add_samples(*this, b, b.cols); }
    double sample_value(const float* y, const float* p, std::size_t n) const {
        return detail::argmax(y, n) == detail::argmax(p, n) ? 1 : 0;
    }
};

// Labels are class indices, one column.
struct SparseCategoricalAccuracy {
    std::string name = "sparse_categorical_accuracy";
    detail::mean_state state{};

    void update(const loss_batch& b) { detail::add_samples(*this, b, 1); }
    double sample_value(const float* y, const float* p, std::size_t n) const {
        return y[0] == static_cast<float>(detail::argmax(p, n)) ? 1 : 0;
    }
};

// The metric (keras.metrics.MeanAbsoluteError); the loss of the same name is in losses.hpp.
struct MeanAbsoluteErrorMetric {
    std::string name = "mean_absolute_error";
    detail::mean_state state{};

    void update(const loss_batch& b) { detail::add_samples(*this, b, b.cols); }
    double sample_value(const float* y, const float* p, std::size_t n) const {
        return detail::mean_over_columns(y, p, n, [](float label, float predicted) {
            return static_cast<double>(std::abs(predicted - label));
        });
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
