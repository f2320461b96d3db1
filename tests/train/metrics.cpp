#define BOOST_TEST_MODULE train_metrics
#include <boost/test/unit_test.hpp>

#include <xfuse/core/config.hpp>
#include <xfuse/train/metrics.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

// Stateful metrics against counts done here by hand and by a scalar double loop, over several
// batches (result = mean over all samples seen), at widths around the SIMD width, padded rows.

namespace xf = xfuse;

namespace {
constexpr std::array<std::size_t, 7> widths{1, 7, 15, 16, 17, 33, 100};
}

BOOST_AUTO_TEST_CASE(binary_accuracy_over_batches) {
    xf::BinaryAccuracy m;
    BOOST_TEST(m.name == "binary_accuracy");
    // Batch 1: predictions vs threshold 0.5 (strict: 0.5 counts as 0).
    const float y1[4] = {1, 0, 1, 0}, p1[4] = {0.9f, 0.5f, 0.5f, 0.7f};  // hits: 1, 1, 0, 0
    m.update({y1, 1, 1, p1, 1, 1, 4});
    BOOST_TEST(m.state.result() == 0.5);
    const float y2[2] = {1, 1}, p2[2] = {0.6f, 0.51f};  // hits: 2
    m.update({y2, 1, 1, p2, 1, 1, 2});
    BOOST_TEST(m.state.result() == 4.0 / 6.0);
    m.state.reset();
    BOOST_TEST(m.state.result() == 0.0);
    xf::BinaryAccuracy strict{.threshold = 0.95f};
    strict.update({y1, 1, 1, p1, 1, 1, 4});
    BOOST_TEST(strict.state.result() == 0.5);  // all predicted 0: hits on the two zeros
}

BOOST_AUTO_TEST_CASE(accuracies_and_mae_at_many_widths) {
    for (std::size_t n : widths) {
        const std::size_t rows = 9, stride = xf::padded(n);
        std::mt19937 engine{static_cast<unsigned>(n)};
        std::uniform_real_distribution<float> unit(0.0f, 1.0f);
        std::vector<float> p(rows * stride, 9.0f), y(rows * n), sparse(rows);
        for (std::size_t r = 0; r < rows; ++r) {
            sparse[r] = float((r * 7) % n);
            for (std::size_t j = 0; j < n; ++j) {
                p[r * stride + j] = unit(engine);
                y[r * n + j] = j == std::size_t(sparse[r]) ? 1.0f : 0.0f;
            }
            if (r % 3 == 0)  // make some predictions right
                p[r * stride + std::size_t(sparse[r])] = 2.0f;
        }
        double hits = 0, abs_sum = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            std::size_t best = 0;
            for (std::size_t j = 0; j < n; ++j) {
                if (p[r * stride + j] > p[r * stride + best])
                    best = j;
                abs_sum += std::abs(double(p[r * stride + j]) - y[r * n + j]) / double(n);
            }
            hits += best == std::size_t(sparse[r]);
        }
        auto list = xf::metrics(xf::CategoricalAccuracy{}, xf::SparseCategoricalAccuracy{},
                                xf::MeanAbsoluteError{});
        BOOST_TEST((list.names() == std::vector<std::string>{"categorical_accuracy",
                                                             "sparse_categorical_accuracy",
                                                             "mean_absolute_error"}));
        // Two batches of rows 0..3 and 4..8 for the categorical metrics.
        for (auto [first, count] : {std::pair<std::size_t, std::size_t>{0, 4}, {4, 5}}) {
            std::get<xf::CategoricalAccuracy>(list.items[0])
                .update({y.data() + first * n, n, n, p.data() + first * stride, n, stride, count});
            std::get<xf::SparseCategoricalAccuracy>(list.items[1])
                .update({sparse.data() + first, 1, 1, p.data() + first * stride, n, stride, count});
            std::get<xf::MeanAbsoluteErrorMetric>(list.items[2])
                .update({y.data() + first * n, n, n, p.data() + first * stride, n, stride, count});
        }
        const std::vector<double> results = list.results();
        BOOST_TEST_INFO("n=" << n);
        BOOST_TEST(results[0] == hits / rows, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(results[1] == hits / rows, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(results[2] == abs_sum / rows, boost::test_tools::tolerance(1e-6));
        list.reset();
        BOOST_TEST(list.results()[2] == 0.0);
    }
}

BOOST_AUTO_TEST_CASE(names_and_label_checks) {
    auto list = xf::metrics(xf::BinaryAccuracy{.name = "accuracy"});
    BOOST_TEST(list.names().at(0) == "accuracy");
    const float y[2] = {1, 0}, p[2] = {0.2f, 0.8f};
    BOOST_CHECK_THROW(list.update({y, 2, 2, p, 1, 1, 1}), std::invalid_argument);
    xf::SparseCategoricalAccuracy sparse;
    BOOST_CHECK_THROW(sparse.update({y, 2, 2, p, 2, 2, 1}), std::invalid_argument);
}
