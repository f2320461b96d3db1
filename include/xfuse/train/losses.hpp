// Losses with Keras' defaults, formulas and reduction (keras/losses.py, keras/backend.py of
// tf.keras 2.x): BinaryCrossentropy, CategoricalCrossentropy,
// SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError, Huber.
//
//   double l = xf::loss_and_gradient(xf::BinaryCrossentropy{}, batch, grad, grad_stride,
//                                    xf::loss_input::logits);
//
// Reduction is Keras' "sum over batch size": each row's loss is the mean over the last axis (the
// class axis is summed by the crossentropies), then the mean over the batch's rows (a partial
// last batch divides by its own size). A row is one position of a sample: a rank-1 output has one
// per sample, a (T, C) output T, so that its batch of N samples divides the sum by N*T, as Keras
// divides by the number of elements of the (N, T) per-position losses. The gradient is that of
// the reduced value.
//
// Logits. A sigmoid (softmax) output carries its pre-activation in Keras (`_keras_logits`), and
// Binary/CategoricalCrossentropy then compute from it: the stable max(z,0) - z*y + log1p(e^-|z|)
// (-sum y*log_softmax(z)), no clipping. fit() and evaluate() know when the output layer is a
// sigmoid/softmax Dense and pass its pre-activation with loss_input::logits; with from_logits the
// output itself is the logit. Otherwise (probabilities) Keras clips: p to [1e-7, 1 - 1e-7] and,
// for BCE in tf.keras 2.x, 1e-7 inside the log too; the gradient is 0 where the clip binds, as
// tf.clip_by_value's. The gradient is w.r.t. whatever was passed (probabilities or logits).
//
// Computed per element in float, as Keras' float32 graph does, summed in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "../core/config.hpp"
#include "../kernels/activations.hpp"

namespace xfuse {

namespace detail {
inline void check_label_smoothing(float value, const char* loss) {
    if (!(value >= 0.0f && value <= 1.0f))
        throw std::invalid_argument(std::string("xfuse::") + loss +
                                    ": label_smoothing must lie in [0, 1], got " +
                                    std::to_string(value));
}

// For the data checks of fit()/evaluate(): throws naming `what` and the first bad position.
// fit checks the whole training set on every call, so the scan is SIMD: x * 0 is 0 for a
// finite x and NaN for an infinite or NaN one, and a sum of such products is NaN as soon as one
// is. Only a set that fails is searched again, element by element, for the first culprit.
inline void check_finite(std::span<const float> values, const std::string& what) {
    const std::size_t body = values.size() - values.size() % simd_width;
    const simd_batch zero(0.0f);
    simd_batch poison(0.0f);
    for (std::size_t i = 0; i < body; i += simd_width)
        poison = xsimd::fma(simd_batch::load_unaligned(values.data() + i), zero, poison);
    bool finite = std::isfinite(xsimd::hadd(poison));
    for (std::size_t i = body; i < values.size(); ++i)
        finite = finite && std::isfinite(values[i]);
    if (finite)
        return;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            throw std::invalid_argument(what + " must be finite, but element " + std::to_string(i) +
                                        " is " + std::to_string(values[i]));
}

inline constexpr float keras_epsilon = 1e-7f;  // backend_config.epsilon()
}  // namespace detail

struct BinaryCrossentropy {
    bool from_logits = false;
    float label_smoothing = 0.0f;

    void validate() const { detail::check_label_smoothing(label_smoothing, "BinaryCrossentropy"); }
};

struct CategoricalCrossentropy {
    bool from_logits = false;
    float label_smoothing = 0.0f;

    void validate() const {
        detail::check_label_smoothing(label_smoothing, "CategoricalCrossentropy");
    }
};

// Labels are class indices (stored as floats, one per row) into the prediction's columns.
struct SparseCategoricalCrossentropy {
    bool from_logits = false;

    void validate() const {}
};

struct MeanSquaredError {
    void validate() const {}
};

struct MeanAbsoluteError {
    void validate() const {}
};

struct Huber {
    float delta = 1.0f;

    void validate() const {
        if (!(delta >= 0.0f && std::isfinite(delta)))
            throw std::invalid_argument("xfuse::Huber: delta must be finite and >= 0, got " +
                                        std::to_string(delta));
    }
};

using any_loss =
    std::variant<BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                 MeanSquaredError, MeanAbsoluteError, Huber>;

// What the prediction rows hold: the output's values, or the pre-activation of its sigmoid or
// softmax (Keras' recovered logits).
enum class loss_input { probabilities, logits };

// One batch: `rows` rows (samples, or positions of samples); predictions `cols` wide (rows
// `pred_stride` apart, padding beyond `cols` ignored); labels `label_cols` wide (cols, or 1 for
// sparse labels), `label_stride` apart.
struct loss_batch {
    const float* labels;
    std::size_t label_cols, label_stride;
    const float* predictions;
    std::size_t cols, pred_stride;
    std::size_t rows;
};

namespace detail {

// Each row function returns the row's loss (already averaged over its last axis) and, when
// `grad` is not null, writes d(row loss)/d(input) * scale into grad[0, cols).

// Probabilities: Keras' clipped formula, gradient 0 where the clip is active.
inline double bce_row(const BinaryCrossentropy& c, const float* y, const float* x, std::size_t cols,
                      float* grad, float scale) {
    const float eps = keras_epsilon, smooth = c.label_smoothing;
    const float element_scale = scale / static_cast<float>(cols);
    double sum = 0;
    for (std::size_t j = 0; j < cols; ++j) {
        const float t = y[j] * (1.0f - smooth) + 0.5f * smooth;
        const float p = std::clamp(x[j], eps, 1.0f - eps);
        sum -= t * std::log(p + eps) + (1.0f - t) * std::log(1.0f - p + eps);
        if (grad) {
            const bool inside = x[j] >= eps && x[j] <= 1.0f - eps;
            grad[j] =
                inside ? -(t / (p + eps) - (1.0f - t) / (1.0f - p + eps)) * element_scale : 0.0f;
        }
    }
    return sum / static_cast<double>(cols);
}

// Logits, the whole batch a register of elements at a time (the exp and the log1p per element
// are most of a training step's loss, and libm's log1pf is scalar): max(z, 0) - z t + log1p(e)
// with e = exp(-|z|) in (0, 1], and the gradient
// sigmoid(z) - t from the same e. Returns the sum over rows of the row means.
inline double bce_logits_batch(const BinaryCrossentropy& c, const loss_batch& b, float* grad,
                               std::size_t grad_stride, float scale) {
    const float smooth = c.label_smoothing;
    const simd_batch element_scale(scale / static_cast<float>(b.cols));
    const simd_batch zero(0.0f);
    // Element k of a register is (row[k], column[k]) of the batch.
    alignas(buffer_alignment) float z[simd_width], t[simd_width], terms[simd_width];
    std::size_t row[simd_width], column[simd_width];
    std::size_t r = 0, j = 0;
    double sum = 0;
    while (r < b.rows) {
        std::size_t count = 0;
        for (; count < simd_width && r < b.rows; ++count) {
            row[count] = r;
            column[count] = j;
            z[count] = b.predictions[r * b.pred_stride + j];
            t[count] = b.labels[r * b.label_stride + j] * (1.0f - smooth) + 0.5f * smooth;
            if (++j == b.cols)
                j = 0, ++r;
        }
        std::fill(z + count, z + simd_width, 0.0f);
        std::fill(t + count, t + simd_width, 0.0f);
        const simd_batch zs = simd_batch::load_aligned(z), ts = simd_batch::load_aligned(t);
        const simd_batch e = exp_nonpositive(-xsimd::abs(zs));
        (xsimd::max(zs, zero) - zs * ts + xsimd::log1p(e)).store_aligned(terms);
        for (std::size_t k = 0; k < count; ++k)
            sum += terms[k];
        if (grad) {
            ((sigmoid_from_exp(zs, e) - ts) * element_scale).store_aligned(z);
            for (std::size_t k = 0; k < count; ++k)
                grad[row[k] * grad_stride + column[k]] = z[k];
        }
    }
    return sum / static_cast<double>(b.cols);
}

// -sum_j t_j log q_j. Logits: q = softmax(z), gradient softmax(z)*sum(t) - t. Probabilities:
// q = clip(p / sum(p)), gradient through the normalisation and the clip (as autodiff does).
// `label` is the sparse class index, or -1 for dense labels in y.
inline double crossentropy_row(bool logits, float smooth, const float* y, long label,
                               const float* x, std::size_t cols, float* grad, float scale) {
    const float eps = keras_epsilon;
    auto target = [&](std::size_t j) {
        const float t = label >= 0 ? (static_cast<long>(j) == label ? 1.0f : 0.0f) : y[j];
        return t * (1.0f - smooth) + smooth / static_cast<float>(cols);
    };
    double loss = 0;
    if (logits) {
        const float top = *std::max_element(x, x + cols);
        float total = 0, target_sum = 0;
        for (std::size_t j = 0; j < cols; ++j)
            total += std::exp(x[j] - top);
        const float log_total = std::log(total);
        for (std::size_t j = 0; j < cols; ++j) {
            loss -= target(j) * (x[j] - top - log_total);
            target_sum += target(j);
        }
        if (grad)
            for (std::size_t j = 0; j < cols; ++j)
                grad[j] = (std::exp(x[j] - top) / total * target_sum - target(j)) * scale;
        return loss;
    }
    float total = 0;
    for (std::size_t j = 0; j < cols; ++j)
        total += x[j];
    float weighted = 0;  // sum_j dL/dq_j * r_j over unclipped j
    for (std::size_t j = 0; j < cols; ++j) {
        const float r = x[j] / total, q = std::clamp(r, eps, 1.0f - eps);
        loss -= target(j) * std::log(q);
        const float dq = (r >= eps && r <= 1.0f - eps) ? -target(j) / q : 0.0f;
        if (grad)
            grad[j] = dq;
        weighted += dq * r;
    }
    if (grad)
        for (std::size_t j = 0; j < cols; ++j)
            grad[j] = (grad[j] - weighted) / total * scale;
    return loss;
}

// Mean over the row of f(prediction - label), gradient f'(e) / cols * scale.
template <class F, class D>
double elementwise_row(F f, D derivative, const float* y, const float* x, std::size_t cols,
                       float* grad, float scale) {
    const float element_scale = scale / static_cast<float>(cols);
    double sum = 0;
    for (std::size_t j = 0; j < cols; ++j) {
        const float e = x[j] - y[j];
        sum += f(e);
        if (grad)
            grad[j] = derivative(e) * element_scale;
    }
    return sum / static_cast<double>(cols);
}

inline float sign(float e) {
    return e > 0.0f ? 1.0f : (e < 0.0f ? -1.0f : 0.0f);
}

inline double row_loss(const BinaryCrossentropy& c, bool, const float* y, const float* x,
                       std::size_t cols, float* grad, float scale) {
    return bce_row(c, y, x, cols, grad, scale);  // logits: bce_logits_batch
}
inline double row_loss(const CategoricalCrossentropy& c, bool logits, const float* y,
                       const float* x, std::size_t cols, float* grad, float scale) {
    return crossentropy_row(logits, c.label_smoothing, y, -1, x, cols, grad, scale);
}
inline double row_loss(const SparseCategoricalCrossentropy&, bool logits, const float* y,
                       const float* x, std::size_t cols, float* grad, float scale) {
    const float index = y[0];
    if (!(index >= 0.0f && index < static_cast<float>(cols) && index == std::floor(index)))
        throw std::invalid_argument(
            "xfuse::SparseCategoricalCrossentropy: label must be a class index in [0, " +
            std::to_string(cols) + "), got " + std::to_string(index));
    return crossentropy_row(logits, 0.0f, nullptr, static_cast<long>(index), x, cols, grad, scale);
}
inline double row_loss(const MeanSquaredError&, bool, const float* y, const float* x,
                       std::size_t cols, float* grad, float scale) {
    return elementwise_row([](float e) { return e * e; }, [](float e) { return 2.0f * e; }, y, x,
                           cols, grad, scale);
}
inline double row_loss(const MeanAbsoluteError&, bool, const float* y, const float* x,
                       std::size_t cols, float* grad, float scale) {
    return elementwise_row([](float e) { return std::abs(e); }, sign, y, x, cols, grad, scale);
}
inline double row_loss(const Huber& c, bool, const float* y, const float* x, std::size_t cols,
                       float* grad, float scale) {
    const float d = c.delta;
    return elementwise_row(
        [d](float e) { return std::abs(e) <= d ? 0.5f * e * e : d * std::abs(e) - 0.5f * d * d; },
        [d](float e) { return std::abs(e) <= d ? e : d * sign(e); }, y, x, cols, grad, scale);
}

template <class Loss>
constexpr bool accepts_logits =
    std::is_same_v<Loss, BinaryCrossentropy> || std::is_same_v<Loss, CategoricalCrossentropy> ||
    std::is_same_v<Loss, SparseCategoricalCrossentropy>;

// The sum over the batch's rows of row_loss, gradients (times `scale`) into the first b.cols
// floats of each of grad's rows. Binary crossentropy on logits goes through the whole batch in
// SIMD instead (bce_logits_batch).
template <class Loss>
double sum_of_row_losses(const Loss& loss, bool logits, const loss_batch& b, float* grad,
                         std::size_t grad_stride, float scale) {
    if constexpr (std::is_same_v<Loss, BinaryCrossentropy>) {
        if (logits)
            return bce_logits_batch(loss, b, grad, grad_stride, scale);
    }
    double sum = 0;
    for (std::size_t r = 0; r < b.rows; ++r)
        sum +=
            row_loss(loss, logits, b.labels + r * b.label_stride, b.predictions + r * b.pred_stride,
                     b.cols, grad ? grad + r * grad_stride : nullptr, scale);
    return sum;
}

template <class Loss>
double reduce(const Loss& loss, const loss_batch& b, loss_input input, float* grad,
              std::size_t grad_stride) {
    const bool logits = input == loss_input::logits;
    if constexpr (!accepts_logits<Loss>) {
        if (logits)
            throw std::invalid_argument("xfuse: only the crossentropies take logits");
    } else if (loss.from_logits && !logits) {
        throw std::invalid_argument(
            "xfuse: a loss with from_logits = true needs loss_input::logits (the output is the "
            "logit)");
    }
    const std::size_t expected_labels =
        std::is_same_v<Loss, SparseCategoricalCrossentropy> ? 1 : b.cols;
    if (b.label_cols != expected_labels)
        throw std::invalid_argument("xfuse: labels have " + std::to_string(b.label_cols) +
                                    " columns, expected " + std::to_string(expected_labels));
    if (b.rows == 0)
        return 0.0;  // Keras' divide_no_nan
    const double sum =
        sum_of_row_losses(loss, logits, b, grad, grad_stride, 1.0f / static_cast<float>(b.rows));
    if (grad)
        for (std::size_t r = 0; r < b.rows; ++r)  // padding lanes
            std::fill(grad + r * grad_stride + b.cols, grad + (r + 1) * grad_stride, 0.0f);
    return sum / static_cast<double>(b.rows);
}

}  // namespace detail

// The batch's loss (mean over rows of the per-row loss).
template <class Loss>
double loss_value(const Loss& loss, const loss_batch& batch,
                  loss_input input = loss_input::probabilities) {
    return detail::reduce(loss, batch, input, nullptr, 0);
}

// The batch's loss, and its gradient w.r.t. the input into `grad` (rows `grad_stride` apart;
// padding lanes are set to 0).
template <class Loss>
double loss_and_gradient(const Loss& loss, const loss_batch& batch, float* grad,
                         std::size_t grad_stride, loss_input input = loss_input::probabilities) {
    return detail::reduce(loss, batch, input, grad, grad_stride);
}

inline double loss_value(const any_loss& loss, const loss_batch& batch,
                         loss_input input = loss_input::probabilities) {
    return std::visit([&](const auto& l) { return loss_value(l, batch, input); }, loss);
}
inline double loss_and_gradient(const any_loss& loss, const loss_batch& batch, float* grad,
                                std::size_t grad_stride,
                                loss_input input = loss_input::probabilities) {
    return std::visit(
        [&](const auto& l) { return loss_and_gradient(l, batch, grad, grad_stride, input); }, loss);
}

}  // namespace xfuse
