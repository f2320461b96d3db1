// Model::compile / fit / evaluate end to end: the issue's acceptance code, one epoch against the
// numpy reference (tests/data/make_training_fixture.py), bad input rejected before any weight
// changes, callbacks, the progress text, convergence on a task attention must solve, and the
// logits path of an output activation layer.
#define BOOST_TEST_MODULE train_fit
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <regex>
#include <sstream>
#include <xfuse/xfuse.hpp>
#include <xtensor/xview.hpp>

#include "support/fixture_reader.hpp"
#include "support/reference.hpp"
#include "support/seed_model.hpp"
#include "support/weight_difference.hpp"

namespace xf = xfuse;

namespace {

xt::xtensor<float, 2> to_tensor(const fixture::array& a) {
    xt::xtensor<float, 2> t({a.rows, a.cols});
    std::copy(a.values.begin(), a.values.end(), t.begin());
    return t;
}

// Labels that depend on the first input only: attention must find the first input's features.
xt::xtensor<float, 2> labels_from_first_input(const xt::xtensor<float, 2>& a) {
    xt::xtensor<float, 2> y({a.shape(0), 1});
    for (std::size_t i = 0; i < a.shape(0); ++i)
        y(i, 0) = a(i, 0) + a(i, 1) - a(i, 2) > 0.0f ? 1.0f : 0.0f;
    return y;
}

}  // namespace

BOOST_AUTO_TEST_CASE(acceptance_code_runs_and_reports_keras_history) {
    auto model = seed::build();
    const auto a = reference::random_batch(1000, 10, 1);
    const auto b = reference::random_batch(1000, 20, 2);
    const auto y = labels_from_first_input(a);

    model.compile(xf::Adam{.learning_rate = 1e-3f}, xf::BinaryCrossentropy{},
                  xf::metrics(xf::BinaryAccuracy{}));
    std::ostringstream progress;
    xf::History h = model.fit(std::tie(a, b), y,
                              xf::FitOptions{.epochs = 3,
                                             .batch_size = 32,
                                             .validation_split = 0.2f,
                                             .shuffle = true,
                                             .verbose = 1,
                                             .seed = 7},
                              progress);
    BOOST_TEST(h.history.at("loss").size() == 3u);
    BOOST_TEST(h.history.at("val_loss").size() == 3u);
    BOOST_TEST(h.history.at("binary_accuracy").size() == 3u);
    BOOST_TEST(h.history.at("val_binary_accuracy").size() == 3u);
    BOOST_TEST(h.params.steps == 25u);  // 800 training rows in batches of 32
    BOOST_TEST(h.history.at("loss").back() < h.history.at("loss").front());

    const std::vector<double> result = model.evaluate(std::tie(a, b), y);
    BOOST_REQUIRE(result.size() == 2u);  // loss, then binary_accuracy
    BOOST_TEST(result[0] > 0.0);
    BOOST_TEST(result[1] >= 0.0);
    BOOST_TEST(result[1] <= 1.0);

    // Not a terminal: one final line per epoch, in Keras' format.
    const std::regex line(
        R"(Epoch 1/3\n25/25 \[==============================\] - \d+s \d+(ms|us)/step - )"
        R"(loss: \d\.\d{4} - binary_accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - )"
        R"(val_binary_accuracy: \d\.\d{4}\nEpoch 2/3\n)");
    BOOST_TEST(std::regex_search(progress.str(), line), progress.str());
}

BOOST_AUTO_TEST_CASE(evaluate_changes_no_optimizer_state) {
    auto model = seed::build();
    const auto a = reference::random_batch(64, 10, 1);
    const auto b = reference::random_batch(64, 20, 2);
    const auto y = labels_from_first_input(a);
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.evaluate(std::tie(a, b), y);
    BOOST_TEST(model.optimizer_states().empty());  // Keras creates slots in fit, not evaluate

    model.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 1, .verbose = 0});
    BOOST_REQUIRE(model.optimizer_states().size() == 1u);
    const std::vector<float> m(model.optimizer_states()[0].slots[0].data(),
                               model.optimizer_states()[0].slots[0].data() + 64);
    model.evaluate(std::tie(a, b), y);
    BOOST_TEST(model.optimizer_states()[0].iterations == 2);  // 64 samples, batches of 32
    BOOST_TEST(std::equal(m.begin(), m.end(), model.optimizer_states()[0].slots[0].data()));
}

BOOST_AUTO_TEST_CASE(one_epoch_matches_the_numpy_reference) {
    const fixture::file data(XFUSE_TEST_DATA "/training_fixture.txt");
    auto model = seed::build();
    const char* names[] = {"W1", "b1", "W2", "b2", "Wa", "ba", "Wo", "bo"};
    std::vector<xt::xarray<float>> initial, final;
    for (const char* name : names) {
        for (auto* target : {&initial, &final}) {
            const auto& a =
                data.at((target == &initial ? "initial_" : "final_") + std::string(name));
            xt::xarray<float> w = to_tensor(a);
            if (a.rows == 1 && std::string(name)[0] == 'b')
                w.reshape({a.cols});
            target->push_back(w);
        }
    }
    model.set_weights(initial);
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    const auto x1 = to_tensor(data.at("x1"));
    const auto x2 = to_tensor(data.at("x2"));
    const auto y = to_tensor(data.at("y"));
    std::ostringstream quiet;
    const xf::History h = model.fit(
        std::tie(x1, x2), y, xf::FitOptions{.epochs = 1, .shuffle = false, .verbose = 0}, quiet);
    BOOST_TEST(max_weight_difference(model.get_weights(), final) <= 1e-5);
    BOOST_TEST(h.history.at("loss")[0] == data.at("epoch_loss")(0, 0),
               boost::test_tools::tolerance(1e-5));
    BOOST_TEST(quiet.str().empty());
    BOOST_TEST(model.optimizer_states().at(0).iterations == 7);
}

BOOST_AUTO_TEST_CASE(bad_input_is_rejected_before_any_weight_changes) {
    auto model = seed::build();
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    const auto a = reference::random_batch(64, 10, 3);
    const auto b = reference::random_batch(64, 20, 4);
    const auto y = labels_from_first_input(a);
    const auto before = model.get_weights();
    const auto rejects = [&](auto&& call, const std::string& fragment) {
        try {
            call();
            BOOST_ERROR("accepted: " << fragment);
        } catch (const std::invalid_argument& e) {
            BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
        }
        BOOST_TEST(max_weight_difference(model.get_weights(), before) == 0.0);
    };
    const xf::FitOptions quiet{.verbose = 0};
    rejects(
        [&] {
            model.fit(std::tie(a, b), xt::xtensor<float, 2>(xt::zeros<float>({63, 1})), quiet);
        },
        "(64, 1)");
    rejects(
        [&] {
            model.fit(std::tie(a, b), xt::xtensor<float, 2>(xt::zeros<float>({64, 2})), quiet);
        },
        "dense_2");
    auto with_nan = a;
    with_nan(5, 3) = std::numeric_limits<float>::quiet_NaN();
    rejects([&] { model.fit(std::tie(with_nan, b), y, quiet); }, "input_1");
    auto y_nan = y;
    y_nan(7, 0) = std::numeric_limits<float>::infinity();
    rejects([&] { model.fit(std::tie(a, b), y_nan, quiet); }, "labels");
    rejects([&] { model.fit(std::tie(a, b), y, xf::FitOptions{.batch_size = 0, .verbose = 0}); },
            "batch_size");
    rejects(
        [&] {
            model.fit(std::tie(a, b), y, xf::FitOptions{.validation_split = 1.0f, .verbose = 0});
        },
        "validation_split");
    rejects(
        [&] {
            model.fit(std::tie(a, b), y, xf::FitOptions{.validation_split = -0.1f, .verbose = 0});
        },
        "validation_split");

    auto uncompiled = seed::build();
    BOOST_CHECK_THROW(uncompiled.fit(std::tie(a, b), y, quiet), std::logic_error);
}

BOOST_AUTO_TEST_CASE(fit_batches_shuffles_deterministically_and_keeps_the_last_partial_batch) {
    const auto a = reference::random_batch(100, 10, 5);
    const auto b = reference::random_batch(100, 20, 6);
    const auto y = labels_from_first_input(a);
    const auto train = [&](std::uint64_t seed) {
        auto model = seed::build();
        model.initialize_weights(11);
        model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
        int batches = 0;
        auto counter = std::make_shared<xf::LambdaCallback>(xf::LambdaCallback::functions{
            .on_batch_end = [&](int, const xf::logs&, xf::training_control&) { ++batches; }});
        const auto h = model.fit(
            std::tie(a, b), y,
            xf::FitOptions{
                .epochs = 2, .batch_size = 30, .verbose = 0, .seed = seed, .callbacks = {counter}});
        BOOST_TEST(batches == 8);  // 4 per epoch: 30, 30, 30, 10
        return std::pair{model.get_weights(), h.history.at("loss")};
    };
    const auto [first, first_loss] = train(1);
    const auto [again, again_loss] = train(1);
    const auto [other, other_loss] = train(2);
    BOOST_TEST(max_weight_difference(first, again) == 0.0);
    BOOST_TEST(first_loss == again_loss, boost::test_tools::per_element());
    BOOST_TEST(max_weight_difference(first, other) > 0.0);
}

BOOST_AUTO_TEST_CASE(callbacks_stop_training) {
    auto model = seed::build();
    model.compile(xf::Adam{.learning_rate = 1e-2f}, xf::BinaryCrossentropy{});
    const auto a = reference::random_batch(200, 10, 7);
    const auto b = reference::random_batch(200, 20, 8);
    xt::xtensor<float, 2> noise({200, 1});
    for (std::size_t i = 0; i < 200; ++i)
        noise(i, 0) = float(i % 2);  // nothing to learn: val_loss stops improving
    auto stop = std::make_shared<xf::EarlyStopping>(xf::EarlyStopping::options{
        .monitor = "val_loss", .patience = 1, .restore_best_weights = true});
    const auto h = model.fit(
        std::tie(a, b), noise,
        xf::FitOptions{
            .epochs = 50, .validation_split = 0.5f, .verbose = 0, .seed = 3, .callbacks = {stop}});
    BOOST_TEST(h.epoch.size() < 50u);

    // A learning rate that blows the weights up: TerminateOnNaN ends the epoch's batches.
    auto exploding = seed::build();
    exploding.compile(xf::SGD{.learning_rate = 1e30f}, xf::MeanSquaredError{});
    auto nan_stop = std::make_shared<xf::TerminateOnNaN>();
    const auto y = reference::random_batch(200, 1, 9, 1e20f);
    const auto hn = exploding.fit(
        std::tie(a, b), y, xf::FitOptions{.epochs = 5, .verbose = 0, .callbacks = {nan_stop}});
    BOOST_TEST(nan_stop->terminated_at().has_value());
    BOOST_TEST(hn.epoch.size() == 1u);
}

BOOST_AUTO_TEST_CASE(attention_learns_to_pick_the_informative_features) {
    auto model = seed::build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    const auto a = reference::random_batch(10000, 10, 10);
    const auto b = reference::random_batch(10000, 20, 11);
    const auto y = labels_from_first_input(a);

    // Before training, the first input's 32 features get about their share of the weight.
    const auto share_of_first = [&] {
        const auto weights = attention.predict(a, b);
        return double(xt::mean(xt::sum(xt::view(weights, xt::all(), xt::range(0, 32)), {1}))());
    };
    const double before = share_of_first();
    model.compile(xf::Adam{.learning_rate = 3e-3f}, xf::BinaryCrossentropy{},
                  xf::metrics(xf::BinaryAccuracy{}));
    const auto h =
        model.fit(std::tie(a, b), y,
                  xf::FitOptions{.epochs = 15, .validation_split = 0.2f, .verbose = 0, .seed = 5});
    BOOST_TEST(h.history.at("val_binary_accuracy").back() >= 0.95);
    const double after = share_of_first();
    BOOST_TEST_MESSAGE("attention on the first input's features: " << before << " -> " << after);
    BOOST_TEST(after > before + 0.2);
}

namespace {

// The same network with its output activation inside the Dense and as an Activation layer of its
// own: Keras attaches the pre-activation (`_keras_logits`) to the output of the sigmoid and
// softmax functions whichever layer applies them (tf-keras tf_keras/backend.py `sigmoid`,
// tf_keras/layers/core/activation.py `call`), so both outputs are trained through the logits.
template <auto Output, std::size_t Units, class Loss>
void check_activation_layer_takes_the_logits_path(const Loss& loss,
                                                  const xt::xtensor<float, 2>& y) {
    // Inside a template, layers name their identity (layers/tagged.hpp).
    auto in = xf::tagged::Input<struct in, 8>{};
    auto hidden = xf::tagged::Dense<struct hidden, 16, xf::relu>{}(in);
    auto inside =
        xf::Model{xf::inputs(in), xf::tagged::Dense<struct inside, Units, Output>{}(hidden)};
    auto logits = xf::tagged::Dense<struct logits, Units>{}(hidden);
    auto apart = xf::Model{xf::inputs(in), xf::tagged::Activation<struct apart, Output>{}(logits)};
    // Large logits, where probabilities clipped to [1e-7, 1 - 1e-7] give another loss.
    auto weights = inside.get_weights();
    weights[0] *= 40.0f;
    weights[2] *= 40.0f;
    inside.set_weights(weights);
    apart.set_weights(weights);
    const auto x = reference::random_batch(y.shape(0), 8, 31);

    inside.compile(xf::Adam{}, loss);
    apart.compile(xf::Adam{}, loss);
    const double inside_loss = inside.evaluate(x, y).at(0);
    BOOST_TEST_REQUIRE(inside_loss > 20.0);  // beyond any clipped value
    BOOST_TEST(apart.evaluate(x, y).at(0) == inside_loss, boost::test_tools::tolerance(1e-5));

    const xf::FitOptions options{.epochs = 1, .batch_size = 16, .verbose = 0, .seed = 3};
    std::ostringstream quiet;
    const xf::History a = apart.fit(x, y, options, quiet);
    const xf::History b = inside.fit(x, y, options, quiet);
    BOOST_TEST(a.history.at("loss").at(0) == b.history.at("loss").at(0),
               boost::test_tools::tolerance(1e-5));
    BOOST_TEST(max_weight_difference(apart.get_weights(), inside.get_weights()) < 1e-5);
    BOOST_TEST(max_weight_difference(apart.get_weights(), weights) > 1e-4);
}

}  // namespace

BOOST_AUTO_TEST_CASE(activation_layer_outputs_take_the_logits_path) {
    xt::xtensor<float, 2> binary = reference::random_batch(64, 1, 32);
    for (float& v : binary)
        v = v > 0.0f ? 1.0f : 0.0f;
    check_activation_layer_takes_the_logits_path<xf::sigmoid, 1>(xf::BinaryCrossentropy{}, binary);

    xt::xtensor<float, 2> one_hot = xt::zeros<float>({64, 3});
    const auto r = reference::random_batch(64, 1, 33);
    for (std::size_t i = 0; i < 64; ++i)
        one_hot(i, static_cast<std::size_t>(std::abs(r(i, 0)) * 7.0f) % 3) = 1.0f;
    check_activation_layer_takes_the_logits_path<xf::softmax, 3>(xf::CategoricalCrossentropy{},
                                                                 one_hot);
}
