// Dropout: the identity outside fit (the conformance check), and in fit inverted dropout whose
// mask depends on the run's seed, the epoch, the layer and the sample's row only (tf-keras
// tf_keras/layers/regularization/dropout.py calls tf.nn.dropout, which scales the kept elements by
// 1 / (1 - rate)): the rate of dropped elements, the scale, the backward pass's mask, the same
// mask for a sample alone or in any batch, and fit's reproducibility.
#define BOOST_TEST_MODULE layers_dropout
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <xfuse/xfuse.hpp>
#include <xtensor/xview.hpp>

#include "support/conformance.hpp"

namespace xf = xfuse;

namespace {

using S = xf::shape<3, 37>;
using dropout = xf::Dropout<"", void>;

// A training call's context for samples with the given rows in the data.
xf::call_context training(const std::vector<std::size_t>& ids, std::uint64_t seed = 7) {
    return {.training = true, .seed = seed, .epoch = 2, .layer = 1, .sample_ids = ids.data()};
}

xf::aligned_buffer random_samples(std::size_t samples) {
    xf::aligned_buffer x(samples * S::storage);
    const auto values = reference::random_batch(samples, S::storage, 5);
    std::copy(values.begin(), values.end(), x.data());
    return x;
}

}  // namespace

BOOST_AUTO_TEST_CASE(outside_fit_it_is_the_identity) {
    reference::check_conformance<dropout, S>(dropout{0.5f});
    reference::check_conformance<dropout, xf::shape<16>>(dropout{0.9f});
}

BOOST_AUTO_TEST_CASE(in_fit_it_drops_at_the_rate_and_scales_the_rest) {
    const std::size_t samples = 300;
    const auto x = random_samples(samples);
    xf::aligned_buffer y(samples * S::storage);
    std::vector<std::size_t> ids(samples);
    std::iota(ids.begin(), ids.end(), 0);
    const dropout layer{0.3f};
    layer.forward<S>(nullptr, samples, {x.data()}, y.data(), training(ids));
    std::size_t dropped = 0, count = 0;
    for (std::size_t s = 0; s < samples; ++s)
        for (std::size_t r = 0; r < S::rows; ++r)
            for (std::size_t c = 0; c < S::last; ++c) {
                const std::size_t i = s * S::storage + r * S::row_stride + c;
                ++count;
                if (y.data()[i] == 0.0f)
                    ++dropped;
                else
                    BOOST_TEST(y.data()[i] == x.data()[i] / 0.7f,
                               boost::test_tools::tolerance(1e-6f));
            }
    // 33 300 draws: the share dropped lies within 0.3 +- 0.01 (four standard deviations).
    BOOST_TEST(std::abs(double(dropped) / double(count) - 0.3) < 0.01);
}

BOOST_AUTO_TEST_CASE(a_sample_s_mask_depends_on_its_row_not_on_its_batch) {
    const auto x = random_samples(3);
    const dropout layer{0.5f};
    xf::aligned_buffer batch(3 * S::storage), alone(S::storage), other_seed(S::storage);
    layer.forward<S>(nullptr, 3, {x.data()}, batch.data(), training({9, 5, 2}));
    layer.forward<S>(nullptr, 1, {x.data() + S::storage}, alone.data(), training({5}));
    layer.forward<S>(nullptr, 1, {x.data() + S::storage}, other_seed.data(), training({5}, 8));
    bool same = true, differs = false;
    for (std::size_t r = 0; r < S::rows; ++r)
        for (std::size_t c = 0; c < S::last; ++c) {
            const std::size_t i = r * S::row_stride + c;
            same = same && batch.data()[S::storage + i] == alone.data()[i];
            differs = differs || other_seed.data()[i] != alone.data()[i];
        }
    BOOST_TEST(same);
    BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(backward_applies_the_forward_mask) {
    const std::size_t samples = 4;
    const auto x = random_samples(samples);
    const auto g = random_samples(samples);
    const std::vector<std::size_t> ids{3, 1, 4, 1};
    const dropout layer{0.4f};
    xf::aligned_buffer y(samples * S::storage), dx(samples * S::storage);
    std::fill_n(dx.data(), samples * S::storage, 1.0f);  // backward adds
    layer.forward<S>(nullptr, samples, {x.data()}, y.data(), training(ids));
    layer.backward<S>(nullptr, nullptr, samples, {x.data()}, y.data(), g.data(), {dx.data()},
                      training(ids));
    for (std::size_t s = 0; s < samples; ++s)
        for (std::size_t r = 0; r < S::rows; ++r)
            for (std::size_t c = 0; c < S::last; ++c) {
                const std::size_t i = s * S::storage + r * S::row_stride + c;
                const float factor = y.data()[i] / x.data()[i];  // 0 or 1 / 0.6
                BOOST_TEST(dx.data()[i] - 1.0f == g.data()[i] * factor,
                           boost::test_tools::tolerance(1e-5f));
            }
}

BOOST_AUTO_TEST_CASE(fit_repeats_bit_for_bit_and_its_seed_changes_the_masks) {
    auto train = [](std::uint64_t seed, float rate) {
        xf::set_random_seed(3);  // the same initial weights
        auto in = xf::Input<12>{};
        auto h = xf::Dense<16, xf::relu>{}(in);
        auto out = xf::Dense<1, xf::sigmoid>{}(xf::Dropout{rate}(h));
        auto model = xf::Model{xf::inputs(in), out};
        model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
        const auto x = reference::random_batch(64, 12, 9);
        xt::xtensor<float, 2> y = xt::view(x, xt::all(), xt::range(0, 1));
        for (float& v : y)
            v = v > 0.0f ? 1.0f : 0.0f;
        std::ostringstream quiet;
        model.fit(x, y, xf::FitOptions{.epochs = 2, .batch_size = 16, .verbose = 0, .seed = seed},
                  quiet);
        const std::vector<double> evaluated = model.evaluate(x, y);
        return std::make_pair(model.get_weights(), evaluated);
    };
    const auto [first, loss] = train(11, 0.5f);
    const auto [again, loss_again] = train(11, 0.5f);
    const auto [other, loss_other] = train(12, 0.5f);
    const auto [none, loss_none] = train(11, 0.0f);
    BOOST_TEST(first.size() == 4u);
    bool same = true, differs = false, undropped = false;
    for (std::size_t w = 0; w < first.size(); ++w) {
        same = same && first[w] == again[w];
        differs = differs || first[w] != other[w];
        undropped = undropped || first[w] != none[w];
    }
    BOOST_TEST(same);
    BOOST_TEST(differs);
    BOOST_TEST(undropped);
    BOOST_TEST(loss == loss_again, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_rate_outside_0_to_1_is_refused) {
    for (const float rate : {-0.1f, 1.0f, 1.5f, std::nanf("")})
        BOOST_CHECK_THROW(xf::Dropout{rate}, std::invalid_argument);
    BOOST_CHECK_NO_THROW(xf::Dropout{0.0f});
}
