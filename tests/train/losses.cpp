#define BOOST_TEST_MODULE train_losses
#include <boost/test/unit_test.hpp>

#include <xfuse/core/config.hpp>
#include <xfuse/train/losses.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/fixture_reader.hpp"

// Every loss against a double-precision reference written here from Keras' formulas, its
// gradient against central finite differences of that reference, at widths around the SIMD
// width with padded rows; BinaryCrossentropy against the numpy fixture.

namespace xf = xfuse;

namespace {

constexpr std::array<std::size_t, 7> widths{1, 7, 15, 16, 17, 33, 100};
constexpr std::size_t rows = 5;
constexpr double eps = 1e-7;

// A padded batch: predictions with garbage in the padding lanes, labels unpadded.
struct batch_data {
    std::size_t cols, stride;
    std::vector<float> labels, predictions;
    xf::loss_batch view(std::size_t label_cols) const {
        return {labels.data(), label_cols, label_cols, predictions.data(), cols, stride, rows};
    }
};

batch_data make_batch(std::size_t cols, unsigned seed, float low, float high, bool binary_labels,
                      bool one_hot = false) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> value(low, high), unit(0.0f, 1.0f);
    batch_data b{cols, xf::padded(cols), std::vector<float>(rows * cols),
                 std::vector<float>(rows * xf::padded(cols), 777.0f)};
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; ++j) {
            b.predictions[r * b.stride + j] = value(engine);
            b.labels[r * cols + j] = binary_labels ? float(unit(engine) > 0.5f) : unit(engine);
        }
    if (one_hot)
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < cols; ++j)
                b.labels[r * cols + j] = j == (r * 3) % cols ? 1.0f : 0.0f;
    return b;
}

// reference(labels row, predictions row) -> per-sample loss, all in double.
using row_reference = std::function<double(const std::vector<double>&, const std::vector<double>&)>;

double reference_batch(const row_reference& f, const batch_data& b, std::size_t label_cols,
                       const std::vector<double>& x) {
    double sum = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<double> y(b.labels.begin() + r * label_cols,
                              b.labels.begin() + (r + 1) * label_cols);
        std::vector<double> p(x.begin() + r * b.cols, x.begin() + (r + 1) * b.cols);
        sum += f(y, p);
    }
    return sum / rows;
}

template <class Loss>
void check_loss(const Loss& loss, const row_reference& f, const batch_data& b,
                std::size_t label_cols, xf::loss_input input, const std::string& label,
                double tolerance = 1e-5) {
    std::vector<double> x(rows * b.cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < b.cols; ++j)
            x[r * b.cols + j] = b.predictions[r * b.stride + j];
    std::vector<float> grad(rows * b.stride, -5.0f);
    const double value =
        xf::loss_and_gradient(loss, b.view(label_cols), grad.data(), b.stride, input);
    const double expected = reference_batch(f, b, label_cols, x);
    BOOST_TEST_INFO(label << " cols=" << b.cols);
    BOOST_TEST(std::abs(value - expected) <= tolerance * std::max(1.0, std::abs(expected)));
    BOOST_TEST(xf::loss_value(loss, b.view(label_cols), input) == value);
    double worst = 0;
    bool padding_zero = true;
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < b.cols; ++j) {
            const double h = 1e-6 * std::max(1.0, std::abs(x[r * b.cols + j]));
            std::vector<double> up = x, down = x;
            up[r * b.cols + j] += h;
            down[r * b.cols + j] -= h;
            const double numeric =
                (reference_batch(f, b, label_cols, up) - reference_batch(f, b, label_cols, down)) /
                (2 * h);
            worst = std::max(worst, std::abs(grad[r * b.stride + j] - numeric));
        }
        for (std::size_t j = b.cols; j < b.stride; ++j)
            padding_zero = padding_zero && grad[r * b.stride + j] == 0.0f;
    }
    BOOST_TEST_INFO(label << " cols=" << b.cols);
    BOOST_TEST(worst < 1e-5);
    BOOST_TEST_INFO(label << " cols=" << b.cols);
    BOOST_TEST(padding_zero);
}

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
        s += x;
    return s / v.size();
}

row_reference bce_logits_reference(double smooth) {
    return [smooth](const std::vector<double>& y, const std::vector<double>& z) {
        std::vector<double> e(y.size());
        for (std::size_t j = 0; j < y.size(); ++j) {
            const double t = y[j] * (1 - smooth) + 0.5 * smooth;
            // -t log(sigmoid z) - (1-t) log(1 - sigmoid z), written plainly.
            const double s = 1 / (1 + std::exp(-z[j]));
            e[j] = -t * std::log(s) - (1 - t) * std::log(1 - s);
        }
        return mean(e);
    };
}
row_reference bce_clipped_reference(double smooth) {
    return [smooth](const std::vector<double>& y, const std::vector<double>& p) {
        std::vector<double> e(y.size());
        for (std::size_t j = 0; j < y.size(); ++j) {
            const double t = y[j] * (1 - smooth) + 0.5 * smooth;
            const double q = std::min(std::max(p[j], eps), 1 - eps);
            e[j] = -(t * std::log(q + eps) + (1 - t) * std::log(1 - q + eps));
        }
        return mean(e);
    };
}
row_reference cce_reference(bool logits, double smooth, bool sparse) {
    return [=](const std::vector<double>& y, const std::vector<double>& x) {
        const std::size_t n = x.size();
        std::vector<double> q(n);
        double total = 0;
        for (std::size_t j = 0; j < n; ++j)
            total += (q[j] = logits ? std::exp(x[j]) : x[j]);
        double loss = 0;
        for (std::size_t j = 0; j < n; ++j) {
            double t = sparse ? (j == std::size_t(y[0]) ? 1.0 : 0.0) : y[j];
            t = t * (1 - smooth) + smooth / n;
            const double value = logits ? q[j] / total : std::clamp(q[j] / total, eps, 1 - eps);
            loss -= t * std::log(value);
        }
        return loss;
    };
}
row_reference elementwise_reference(std::function<double(double)> f) {
    return [f](const std::vector<double>& y, const std::vector<double>& p) {
        std::vector<double> e(y.size());
        for (std::size_t j = 0; j < y.size(); ++j)
            e[j] = f(p[j] - y[j]);
        return mean(e);
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(binary_crossentropy_paths) {
    using xf::loss_input;
    for (std::size_t n : widths) {
        const batch_data logits = make_batch(n, 1 + n, -6.0f, 6.0f, true);
        check_loss(xf::BinaryCrossentropy{}, bce_logits_reference(0), logits, n, loss_input::logits,
                   "bce logits");
        check_loss(xf::BinaryCrossentropy{.from_logits = true, .label_smoothing = 0.2f},
                   bce_logits_reference(0.2), logits, n, loss_input::logits, "bce smoothed");
        const batch_data probabilities = make_batch(n, 2 + n, 0.02f, 0.98f, true);
        check_loss(xf::BinaryCrossentropy{}, bce_clipped_reference(0), probabilities, n,
                   loss_input::probabilities, "bce probabilities");
        check_loss(xf::BinaryCrossentropy{.label_smoothing = 0.1f}, bce_clipped_reference(0.1),
                   probabilities, n, loss_input::probabilities, "bce probabilities smoothed");
    }
}

BOOST_AUTO_TEST_CASE(binary_crossentropy_clip_binds) {
    // p = 0 with y = 1: clipped to 1e-7, and 1e-7 inside the log: -log(2e-7). p = 1 with y = 0:
    // float32's 1 - (1 - 1e-7) is 1.19e-7, so -log(2.19e-7) = 15.33 as in Keras (float32), not
    // 15.42. Gradient 0 where the clip binds, as tf.clip_by_value's.
    const float labels[2] = {1.0f, 0.0f}, predictions[2] = {0.0f, 1.0f};
    float grad[2] = {9, 9};
    const xf::loss_batch b{labels, 1, 1, predictions, 1, 1, 2};
    const double value = xf::loss_and_gradient(xf::BinaryCrossentropy{}, b, grad, 1);
    const double saturated = -std::log(double(1.0f - (1.0f - 1e-7f)) + double(1e-7f));
    BOOST_TEST(saturated == 15.33, boost::test_tools::tolerance(1e-3));
    BOOST_TEST(value == (-std::log(2e-7) + saturated) / 2, boost::test_tools::tolerance(1e-5));
    BOOST_TEST(grad[0] == 0.0f);
    BOOST_TEST(grad[1] == 0.0f);
    // The logits path does not clip: z = 40 with y = 0 costs 40.
    const float logit = 40.0f, zero = 0.0f;
    BOOST_TEST(xf::loss_value(xf::BinaryCrossentropy{}, {&zero, 1, 1, &logit, 1, 1, 1},
                              xf::loss_input::logits) == 40.0,
               boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(categorical_crossentropies) {
    using xf::loss_input;
    for (std::size_t n : widths) {
        const batch_data logits = make_batch(n, 3 + n, -4.0f, 4.0f, false, true);
        check_loss(xf::CategoricalCrossentropy{}, cce_reference(true, 0, false), logits, n,
                   loss_input::logits, "cce logits");
        check_loss(xf::CategoricalCrossentropy{.from_logits = true, .label_smoothing = 0.3f},
                   cce_reference(true, 0.3, false), logits, n, loss_input::logits,
                   "cce logits smoothed");
        // Probabilities that do not sum to 1 (Keras normalises them first), soft labels.
        const batch_data probabilities = make_batch(n, 4 + n, 0.05f, 1.0f, false);
        check_loss(xf::CategoricalCrossentropy{.label_smoothing = 0.1f},
                   cce_reference(false, 0.1, false), probabilities, n, loss_input::probabilities,
                   "cce probabilities", 1e-5);
        batch_data sparse = make_batch(n, 5 + n, 0.05f, 1.0f, false);
        for (std::size_t r = 0; r < rows; ++r)
            sparse.labels[r] = float((r * 5 + 1) % n);
        check_loss(xf::SparseCategoricalCrossentropy{}, cce_reference(false, 0, true), sparse, 1,
                   loss_input::probabilities, "sparse probabilities");
        check_loss(xf::SparseCategoricalCrossentropy{.from_logits = true},
                   cce_reference(true, 0, true), sparse, 1, loss_input::logits, "sparse logits");
    }
}

BOOST_AUTO_TEST_CASE(regression_losses) {
    for (std::size_t n : widths) {
        const batch_data b = make_batch(n, 6 + n, -3.0f, 3.0f, false);
        check_loss(xf::MeanSquaredError{}, elementwise_reference([](double e) { return e * e; }), b,
                   n, xf::loss_input::probabilities, "mse");
        check_loss(xf::MeanAbsoluteError{},
                   elementwise_reference([](double e) { return std::abs(e); }), b, n,
                   xf::loss_input::probabilities, "mae");
        for (double delta : {1.0, 0.5}) {
            check_loss(xf::Huber{.delta = float(delta)}, elementwise_reference([delta](double e) {
                           return std::abs(e) <= delta ? 0.5 * e * e
                                                       : delta * std::abs(e) - 0.5 * delta * delta;
                       }),
                       b, n, xf::loss_input::probabilities, "huber");
        }
    }
}

BOOST_AUTO_TEST_CASE(binary_crossentropy_matches_fixture) {
    const fixture::file data(XFUSE_TEST_DATA "/training_fixture.txt");
    const std::vector<float> z = data.at("bce_logits").as_float();
    const std::vector<float> y = data.at("bce_labels").as_float();
    const std::vector<float> p = data.at("bce_probabilities").as_float();
    const fixture::array& logits_loss = data.at("bce_logits_loss");
    const fixture::array& clipped_loss = data.at("bce_clipped_loss");
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double a = xf::loss_value(xf::BinaryCrossentropy{}, {&y[i], 1, 1, &z[i], 1, 1, 1},
                                        xf::loss_input::logits);
        const double b = xf::loss_value(xf::BinaryCrossentropy{}, {&y[i], 1, 1, &p[i], 1, 1, 1});
        BOOST_TEST_INFO("sample " << i << " z=" << z[i]);
        BOOST_TEST(std::abs(a - logits_loss.values[i]) <=
                   2e-6 * std::max(1.0, logits_loss.values[i]));
        BOOST_TEST_INFO("sample " << i << " p=" << p[i]);
        BOOST_TEST(std::abs(b - clipped_loss.values[i]) <=
                   2e-6 * std::max(1.0, clipped_loss.values[i]));
    }
    // The first batch's mean loss is the fixture's first batch loss (the batch's logits are the
    // first 32 entries).
    const double batch = xf::loss_value(
        xf::BinaryCrossentropy{}, {y.data(), 1, 1, z.data(), 1, 1, 32}, xf::loss_input::logits);
    BOOST_TEST(batch == data.at("batch_losses").values[0], boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(bad_settings_and_labels_throw) {
    BOOST_CHECK_THROW(xf::BinaryCrossentropy{.label_smoothing = 1.5f}.validate(),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::CategoricalCrossentropy{.label_smoothing = -0.1f}.validate(),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::Huber{.delta = -1.0f}.validate(), std::invalid_argument);
    const float labels[1] = {3.0f}, predictions[3] = {0.2f, 0.3f, 0.5f};
    BOOST_CHECK_THROW(
        xf::loss_value(xf::SparseCategoricalCrossentropy{}, {labels, 1, 1, predictions, 3, 3, 1}),
        std::invalid_argument);
    BOOST_CHECK_THROW(xf::loss_value(xf::MeanSquaredError{}, {labels, 1, 1, predictions, 3, 3, 1},
                                     xf::loss_input::logits),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::loss_value(xf::MeanSquaredError{}, {labels, 1, 1, predictions, 3, 3, 1}),
                      std::invalid_argument);  // label width 1, prediction width 3
    const std::vector<float> with_nan{1.0f, std::numeric_limits<float>::quiet_NaN()};
    try {
        xf::detail::check_finite(with_nan, "y");
        BOOST_FAIL("no throw");
    } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("element 1") != std::string::npos);
    }
    const xf::any_loss any = xf::Huber{};
    const float zero = 0.0f, two = 2.0f;
    BOOST_TEST(xf::loss_value(any, {&zero, 1, 1, &two, 1, 1, 1}) == 1.5);
}
