#define BOOST_TEST_MODULE train_optimizers
#include <boost/test/unit_test.hpp>

#include <xfuse/train/optimizers.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "support/fixture_reader.hpp"

// Every optimizer against a scalar double loop written here from Keras' update_step formulas
// (keras/optimizers/*.py, 2.11+), over several steps, at lengths around the SIMD width; padding
// lanes of a padded buffer must stay exactly zero; Adam against the numpy fixture.

namespace xf = xfuse;

namespace {

constexpr std::array<std::size_t, 7> lengths{1, 7, 15, 16, 17, 33, 100};
constexpr int steps = 5;

std::vector<float> random_values(std::size_t n, unsigned seed, float spread) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(-spread, spread);
    std::vector<float> v(n);
    for (float& x : v)
        x = uniform(engine);
    return v;
}

// Scalar double references: one parameter, its slots, one step t (1-based).
struct reference_state {
    double w, m = 0, v = 0, vhat = 0, avg = 0, mom = 0, acc = 0;
};

void reference_step(const xf::SGD& c, reference_state& s, double g, int) {
    if (c.momentum > 0) {
        s.m = s.m * c.momentum - c.learning_rate * g;
        s.w += c.nesterov ? s.m * c.momentum - c.learning_rate * g : s.m;
    } else {
        s.w -= c.learning_rate * g;
    }
}
void adam_reference(double lr, double b1, double b2, double eps, bool ams, reference_state& s,
                    double g, int t) {
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    s.m = b1 * s.m + (1 - b1) * g;
    s.v = b2 * s.v + (1 - b2) * g * g;
    s.vhat = std::max(s.vhat, s.v);
    s.w -= alpha * s.m / (std::sqrt(ams ? s.vhat : s.v) + eps);
}
void reference_step(const xf::Adam& c, reference_state& s, double g, int t) {
    adam_reference(c.learning_rate, c.beta_1, c.beta_2, c.epsilon, c.amsgrad, s, g, t);
}
void reference_step(const xf::AdamW& c, reference_state& s, double g, int t) {
    s.w -= s.w * double(c.weight_decay) * c.learning_rate;
    adam_reference(c.learning_rate, c.beta_1, c.beta_2, c.epsilon, c.amsgrad, s, g, t);
}
void reference_step(const xf::RMSprop& c, reference_state& s, double g, int) {
    s.v = c.rho * s.v + (1 - c.rho) * g * g;
    double denominator = s.v + c.epsilon;
    if (c.centered) {
        s.avg = c.rho * s.avg + (1 - c.rho) * g;
        denominator = s.v - s.avg * s.avg + c.epsilon;
    }
    const double increment = c.learning_rate * g / std::sqrt(denominator);
    if (c.momentum > 0) {
        s.mom = c.momentum * s.mom + increment;
        s.w -= s.mom;
    } else {
        s.w -= increment;
    }
}
void reference_step(const xf::Adagrad& c, reference_state& s, double g, int) {
    if (s.acc == 0)
        s.acc = c.initial_accumulator_value;  // first call: the initial value
    s.acc += g * g;
    s.w -= c.learning_rate * g / std::sqrt(s.acc + c.epsilon);
}

template <class Config>
void check_against_reference(const Config& config, const std::string& label) {
    for (std::size_t n : lengths) {
        std::vector<float> w = random_values(n, 11 + n, 1.0f);
        std::vector<reference_state> ref(n);
        for (std::size_t i = 0; i < n; ++i)
            ref[i].w = w[i];
        xf::optimizer_state state = xf::make_state(config, n);
        for (int t = 1; t <= steps; ++t) {
            // Gradients of mixed magnitude, tiny ones included (where epsilon matters).
            std::vector<float> g = random_values(n, 100 * t + n, t == 3 ? 1e-6f : 0.5f);
            xf::step(config, state, w.data(), g.data(), n);
            for (std::size_t i = 0; i < n; ++i)
                reference_step(config, ref[i], g[i], t);
        }
        BOOST_TEST(state.iterations == steps);
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i)
            worst = std::max(worst, std::abs(w[i] - ref[i].w) / std::max(1.0, std::abs(ref[i].w)));
        BOOST_TEST_INFO(label << " n=" << n);
        BOOST_TEST(worst < 2e-6);
    }
}

// A parameter buffer as a model lays it out: rows of `cols` padded to the SIMD width, padding
// lanes zero with zero gradient. They must stay exactly zero (and not NaN).
template <class Config>
void check_padding(const Config& config, const std::string& label) {
    constexpr std::size_t rows = 3, cols = 5;
    const std::size_t stride = xf::padded(cols), n = rows * stride;
    xf::aligned_buffer w(n), g(n);
    const std::vector<float> values = random_values(n, 7, 1.0f);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            w.data()[r * stride + c] = values[r * stride + c];
            g.data()[r * stride + c] = 0.25f * values[(r * stride + c + 3) % n];
        }
    xf::optimizer_state state = xf::make_state(config, n);
    for (int t = 0; t < 4; ++t)
        xf::step(config, state, w.data(), g.data(), n);
    bool clean = true, moved = false;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < stride; ++c) {
            const float v = w.data()[r * stride + c];
            if (c >= cols)
                clean = clean && v == 0.0f && !std::signbit(v);
            else
                moved = moved || v != values[r * stride + c];
        }
    BOOST_TEST_INFO(label);
    BOOST_TEST(clean);
    BOOST_TEST_INFO(label);
    BOOST_TEST(moved);
}

}  // namespace

BOOST_AUTO_TEST_CASE(keras_defaults) {
    BOOST_TEST(xf::SGD{}.learning_rate == 0.01f);
    BOOST_TEST(xf::SGD{}.momentum == 0.0f);
    BOOST_TEST(!xf::SGD{}.nesterov);
    BOOST_TEST(xf::Adam{}.learning_rate == 1e-3f);
    BOOST_TEST(xf::Adam{}.epsilon == 1e-7f);
    BOOST_TEST(xf::AdamW{}.weight_decay == 0.004f);
    BOOST_TEST(xf::RMSprop{}.rho == 0.9f);
    BOOST_TEST(xf::RMSprop{}.epsilon == 1e-7f);
    BOOST_TEST(!xf::RMSprop{}.centered);
    BOOST_TEST(xf::Adagrad{}.initial_accumulator_value == 0.1f);
    BOOST_TEST(xf::Adagrad{}.epsilon == 1e-7f);
}

BOOST_AUTO_TEST_CASE(sgd_matches_reference) {
    check_against_reference(xf::SGD{}, "sgd");
    check_against_reference(xf::SGD{.learning_rate = 0.1f, .momentum = 0.9f}, "momentum");
    check_against_reference(xf::SGD{.learning_rate = 0.1f, .momentum = 0.5f, .nesterov = true},
                            "nesterov");
}

BOOST_AUTO_TEST_CASE(adam_matches_reference) {
    check_against_reference(xf::Adam{}, "adam");
    check_against_reference(xf::Adam{.learning_rate = 0.01f, .amsgrad = true}, "amsgrad");
    check_against_reference(xf::AdamW{}, "adamw");
    check_against_reference(
        xf::AdamW{.learning_rate = 0.01f, .weight_decay = 0.1f, .amsgrad = true}, "adamw amsgrad");
}

BOOST_AUTO_TEST_CASE(rmsprop_and_adagrad_match_reference) {
    check_against_reference(xf::RMSprop{}, "rmsprop");
    check_against_reference(xf::RMSprop{.momentum = 0.9f}, "rmsprop momentum");
    check_against_reference(xf::RMSprop{.centered = true}, "rmsprop centered");
    check_against_reference(xf::RMSprop{.momentum = 0.5f, .centered = true}, "rmsprop both");
    check_against_reference(xf::Adagrad{}, "adagrad");
    check_against_reference(xf::Adagrad{.learning_rate = 0.1f}, "adagrad lr 0.1");
}

BOOST_AUTO_TEST_CASE(any_optimizer_dispatches) {
    const xf::any_optimizer config = xf::RMSprop{.momentum = 0.9f};
    xf::optimizer_state state = xf::make_state(config, 17);
    BOOST_TEST(state.slots.size() == 2u);
    std::vector<float> w(17, 1.0f), g(17, 0.5f);
    xf::step(config, state, w.data(), g.data(), 17);
    reference_state ref{1.0};
    reference_step(std::get<xf::RMSprop>(config), ref, 0.5, 1);
    BOOST_TEST(w[16] == ref.w, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(padding_lanes_stay_zero) {
    check_padding(xf::SGD{.momentum = 0.9f, .nesterov = true}, "sgd");
    check_padding(xf::Adam{}, "adam");
    check_padding(xf::Adam{.epsilon = 0.0f, .amsgrad = true}, "adam epsilon 0");
    check_padding(xf::AdamW{}, "adamw");
    check_padding(xf::RMSprop{.momentum = 0.5f, .centered = true}, "rmsprop");
    check_padding(xf::RMSprop{.epsilon = 0.0f}, "rmsprop epsilon 0");
    check_padding(xf::Adagrad{}, "adagrad");
    check_padding(xf::Adagrad{.initial_accumulator_value = 0.0f, .epsilon = 0.0f}, "adagrad zero");
}

BOOST_AUTO_TEST_CASE(bad_settings_throw) {
    BOOST_CHECK_THROW(xf::SGD{.learning_rate = -0.1f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::SGD{.momentum = 1.5f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::Adam{.beta_1 = 1.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::Adam{.beta_2 = -0.1f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::Adam{.epsilon = -1.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::AdamW{.weight_decay = -1.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::AdamW{.beta_1 = 2.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::RMSprop{.rho = 1.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::Adagrad{.initial_accumulator_value = -1.0f}.validate(),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::validate(xf::any_optimizer{xf::Adagrad{.learning_rate = -1.0f}}),
                      std::invalid_argument);
    BOOST_CHECK_NO_THROW(xf::validate(xf::any_optimizer{xf::AdamW{}}));
    try {
        xf::Adam{.beta_1 = 1.5f}.validate();
        BOOST_FAIL("no throw");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("beta_1") != std::string::npos);
        BOOST_TEST(what.find("[0, 1)") != std::string::npos);
        BOOST_TEST(what.find("1.5") != std::string::npos);
    }
    // A state made for another optimizer or length is refused, not read out of bounds.
    xf::optimizer_state adam_state = xf::make_state(xf::Adam{}, 8);
    std::vector<float> w(8), g(8);
    BOOST_CHECK_THROW(xf::step(xf::Adam{.amsgrad = true}, adam_state, w.data(), g.data(), 8),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::step(xf::Adam{}, adam_state, w.data(), g.data(), 7),
                      std::invalid_argument);
}

// The seed model's first Adam step from the numpy fixture: initial weights and first-batch
// gradients in, step-1 weights out (the script's float64 Adam), within 1e-6 relative.
BOOST_AUTO_TEST_CASE(adam_first_step_matches_fixture) {
    const fixture::file data(XFUSE_TEST_DATA "/training_fixture.txt");
    for (const char* name : {"W1", "b1", "W2", "b2", "Wa", "ba", "Wo", "bo"}) {
        std::vector<float> w = data.at(std::string("initial_") + name).as_float();
        const std::vector<float> g = data.at(std::string("gradient_") + name).as_float();
        const fixture::array& expected = data.at(std::string("step1_") + name);
        xf::optimizer_state state = xf::make_state(xf::Adam{}, w.size());
        xf::step(xf::Adam{}, state, w.data(), g.data(), w.size());
        double worst = 0;
        for (std::size_t i = 0; i < w.size(); ++i)
            worst = std::max(worst, std::abs(w[i] - expected.values[i]) /
                                        std::max(1e-3, std::abs(expected.values[i])));
        BOOST_TEST_INFO(name);
        BOOST_TEST(worst <= 1e-6);
        // And it did move: by about lr per weight with a non-negligible gradient.
        const double moved =
            std::abs(expected.values[0] - data.at(std::string("initial_") + name).values[0]);
        BOOST_TEST_INFO(name);
        BOOST_TEST(moved > 1e-5);
    }
}
