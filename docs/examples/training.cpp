// docs/training.md: the notebook's model trained end to end, with each claim of the page checked.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

// [build]
// The notebook's model, as seed_walkthrough.md builds it.
auto build() {
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    auto alpha = xf::Dense<96, xf::softmax, "attention">{}(x);
    auto s = xf::Dot<1>{}(x, alpha);
    auto output = xf::Dense<1, xf::sigmoid>{}(s);
    return xf::Model{xf::inputs(input1, input2), output};
}

// The label depends on the first input only: a sample is 1 when a0 + a1 - a2 > 0.
xt::xtensor<float, 2> labels_from_first_input(const xt::xtensor<float, 2>& a) {
    xt::xtensor<float, 2> y({a.shape(0), 1});
    for (std::size_t i = 0; i < a.shape(0); ++i)
        y(i, 0) = a(i, 0) + a(i, 1) - a(i, 2) > 0.0f ? 1.0f : 0.0f;
    return y;
}
// [build]

// [rows]
// Rows [first, first + count) of a batch, as a tensor of their own.
xt::xtensor<float, 2> rows(const xt::xtensor<float, 2>& t, std::size_t first, std::size_t count) {
    return xt::view(t, xt::range(first, first + count), xt::all());
}
// [rows]

bool same_weights(const std::vector<xt::xarray<float>>& a,
                  const std::vector<xt::xarray<float>>& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!xt::all(xt::equal(a[i], b[i])))
            return false;
    return a.size() == b.size();
}

bool close(double a, double b, double tolerance) {
    return std::abs(a - b) <= tolerance * (1.0 + std::abs(b));
}

// Keras' number format on the progress line: .4f, or .4e at or below 1e-3.
std::string keras_number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v);
    return text;
}

// [share]
// The share of the attention weights on the first input's 32 features, averaged over samples.
template <class Attention>
double share_on_first_input(const Attention& attention, const xt::xtensor<float, 2>& a,
                            const xt::xtensor<float, 2>& b) {
    const xt::xtensor<float, 2> weights = attention.predict(a, b);
    return xt::mean(xt::sum(xt::view(weights, xt::all(), xt::range(0, 32)), {1}))();
}
// [share]

// [clipped]
// Keras' binary_crossentropy(y, p) on probabilities (the clipped formula), averaged over rows.
double crossentropy_of_outputs(const xt::xtensor<float, 2>& y, const xt::xtensor<float, 2>& p) {
    // labels, their columns and row stride; predictions, their columns and row stride; rows
    const xf::loss_batch batch{y.data(), 1, 1, p.data(), 1, 1, y.shape(0)};
    return xf::loss_value(xf::BinaryCrossentropy{}, batch);
}
// [clipped]

// What `call` throws as std::invalid_argument ("" when it throws nothing).
template <class Call>
std::string invalid_argument_from(Call call) {
    try {
        call();
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

int main() {
    // [data]
    xt::random::seed(0);
    xt::xtensor<float, 2> a = xt::random::randn<float>({10000, 10});
    xt::xtensor<float, 2> b = xt::random::randn<float>({10000, 20});
    xt::xtensor<float, 2> y = labels_from_first_input(a);  // (10000, 1)
    // [data]
    CHECK(y.shape(0) == 10000 && y.shape(1) == 1);
    const double positives = xt::mean(y)();
    CHECK(positives > 0.45 && positives < 0.55);

    // [train]
    auto model = build();
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    const double share_before = share_on_first_input(attention, a, b);

    model.compile(xf::Adam{.learning_rate = 1e-3f}, xf::BinaryCrossentropy{},
                  xf::metrics(xf::BinaryAccuracy{}));
    xf::History h = model.fit(std::tie(a, b), y,
                              xf::FitOptions{.epochs = 10,
                                             .batch_size = 32,
                                             .validation_split = 0.2f,
                                             .shuffle = true,
                                             .verbose = 1,
                                             .seed = 7});
    std::vector<double> result = model.evaluate(std::tie(a, b), y);  // loss, binary_accuracy

    const double share_after = share_on_first_input(attention, a, b);
    std::cout << "attention on input 1's features: " << share_before << " -> " << share_after
              << "\n";
    // [train]
    const std::vector<double>& val_accuracy = h.history.at("val_binary_accuracy");
    std::cout << "val_binary_accuracy " << val_accuracy.back() << ", evaluate " << result[0] << " "
              << result[1] << "\n";
    CHECK(val_accuracy.back() >= 0.95);
    CHECK(share_before > 0.2 && share_before < 0.5);  // about 32 of 96 features' worth
    CHECK(share_after > 0.99);
    CHECK(result.size() == 2);
    CHECK(result[1] >= 0.95);

    {
        // compile validates; a model with one input takes its batch directly.
        auto unchecked = build();
        CHECK(!invalid_argument_from([&] {
                   unchecked.compile(xf::Adam{.learning_rate = -1}, xf::BinaryCrossentropy{});
               }).empty());
        auto single = xf::Sequential<xf::Input<10>, xf::Dense<1, xf::sigmoid>>{};
        single.compile(xf::Adam{}, xf::BinaryCrossentropy{});
        const xf::History h1 = single.fit(a, y, xf::FitOptions{.epochs = 2, .verbose = 0});
        CHECK(h1.history.at("loss").size() == 2);
    }

    // [history]
    const std::vector<double>& loss = h.history.at("loss");
    const std::vector<double>& val_loss = h.history.at("val_loss");
    std::cout << "epochs " << h.epoch.size() << ", steps per epoch " << h.params.steps << ", loss "
              << loss.front() << " -> " << loss.back() << ", val_loss " << val_loss.front()
              << " -> " << val_loss.back() << "\n";
    // [history]
    CHECK(h.history.size() == 4);
    CHECK(h.history.at("binary_accuracy").size() == 10);
    CHECK((h.epoch == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    CHECK(h.params.steps == 250 && h.params.epochs == 10 && h.params.verbose == 1);
    CHECK(loss.back() < loss.front() && val_loss.back() < val_loss.front());

    // [validation rows]
    // The validation rows are the last 2000, taken before shuffling; val_* of the last epoch
    // is evaluate() on them with the final weights.
    const auto a_val = rows(a, 8000, 2000), b_val = rows(b, 8000, 2000);
    const auto y_val = rows(y, 8000, 2000);
    std::vector<double> on_validation = model.evaluate(std::tie(a_val, b_val), y_val);
    // [validation rows]
    CHECK(on_validation[0] == val_loss.back());
    CHECK(on_validation[1] == val_accuracy.back());

    {
        // A new compile starts a new optimizer state; set_random_seed fixes the next models'
        // initial weights.
        CHECK(model.optimizer_states().at(0).iterations == 2500);
        model.compile(xf::Adam{}, xf::BinaryCrossentropy{}, xf::metrics(xf::BinaryAccuracy{}));
        CHECK(model.optimizer_states().empty());
        xf::set_random_seed(3);
        const auto first_draw = build().get_weights();
        xf::set_random_seed(3);
        CHECK(same_weights(build().get_weights(), first_draw));
    }

    // [progress]
    auto quiet = build();
    quiet.compile(xf::Adam{}, xf::BinaryCrossentropy{}, xf::metrics(xf::BinaryAccuracy{}));
    std::ostringstream bar, lines, nothing;
    const xf::History two = quiet.fit(
        std::tie(a, b), y,
        xf::FitOptions{.epochs = 2, .validation_split = 0.2f, .verbose = 1, .seed = 7}, bar);
    quiet.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 1, .verbose = 2, .seed = 7}, lines);
    quiet.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 1, .verbose = 0, .seed = 7}, nothing);
    // [progress]
    std::cout << bar.str() << lines.str();
    {
        // Not a terminal: the final line of each epoch only, in Keras' format, with History's
        // values rounded as Keras rounds them.
        const std::string n = R"((\d+\.\d{4}(e[-+]\d+)?))";
        const std::regex epoch_line(R"(250/250 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: )" + n +
                                    " - binary_accuracy: " + n + " - val_loss: " + n +
                                    " - val_binary_accuracy: " + n);
        std::istringstream text(bar.str());
        std::string line;
        std::vector<std::string> all;
        while (std::getline(text, line))
            all.push_back(line);
        CHECK(all.size() == 4);
        CHECK(all.size() == 4 && all[0] == "Epoch 1/2" && all[2] == "Epoch 2/2");
        for (std::size_t e = 0; e < 2 && all.size() == 4; ++e) {
            std::smatch m;
            const bool matched = std::regex_match(all[2 * e + 1], m, epoch_line);
            CHECK(matched);
            if (!matched)
                continue;
            CHECK(m[2] == keras_number(two.history.at("loss")[e]));
            CHECK(m[4] == keras_number(two.history.at("binary_accuracy")[e]));
            CHECK(m[6] == keras_number(two.history.at("val_loss")[e]));
            CHECK(m[8] == keras_number(two.history.at("val_binary_accuracy")[e]));
        }
        // verbose=2: one line per epoch, no bar, the epoch's and the step's time at the end.
        CHECK(std::regex_match(
            lines.str(), std::regex(R"(313/313 - \d+s - loss: \d\.\d{4} - binary_accuracy: )"
                                    R"(\d\.\d{4} - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step\n)")));
        CHECK(nothing.str().empty());
    }

    // [displayed loss]
    // 100 rows in batches of 30: 30, 30, 30 and a last batch of 10, in order.
    const auto a100 = rows(a, 0, 100), b100 = rows(b, 0, 100), y100 = rows(y, 0, 100);
    auto small = build();
    small.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    std::vector<std::vector<xt::xarray<float>>> weights_before_step{small.get_weights()};
    std::vector<double> running_loss;
    auto record = std::make_shared<xf::LambdaCallback>(xf::LambdaCallback::functions{
        .on_batch_end = [&](int, const xf::logs& logs, xf::training_control&) {
            running_loss.push_back(*logs.get("loss"));
            weights_before_step.push_back(small.get_weights());
        }});
    const xf::History one = small.fit(
        std::tie(a100, b100), y100,
        xf::FitOptions{.batch_size = 30, .shuffle = false, .verbose = 0, .callbacks = {record}});
    // [displayed loss]
    {
        CHECK(one.params.steps == 4 && running_loss.size() == 4);
        // Each batch's loss, with the weights it saw: those before its own update.
        const std::size_t first[] = {0, 30, 60, 90}, count[] = {30, 30, 30, 10};
        double weighted = 0;
        for (std::size_t k = 0; k < 4 && running_loss.size() == 4; ++k) {
            small.set_weights(weights_before_step[k]);
            const auto ak = rows(a100, first[k], count[k]), bk = rows(b100, first[k], count[k]);
            weighted += small.evaluate(std::tie(ak, bk), rows(y100, first[k], count[k]))[0] *
                        double(count[k]);
            // The running value after batch k: the batch-size-weighted mean so far.
            CHECK(close(running_loss[k], weighted / double(first[k] + count[k]), 1e-6));
        }
        CHECK(close(one.history.at("loss")[0], weighted / 100.0, 1e-6));
        CHECK(one.history.at("loss")[0] == running_loss.back());
        small.set_weights(weights_before_step.back());
    }

    // [initial epoch]
    auto straight = build();
    auto resumed = build();
    resumed.set_weights(straight.get_weights());
    for (auto* m : {&straight, &resumed})
        m->compile(xf::Adam{}, xf::BinaryCrossentropy{});
    const xf::FitOptions four_epochs{.epochs = 4, .verbose = 0, .seed = 3};
    straight.fit(std::tie(a, b), y, four_epochs);

    xf::FitOptions first_two = four_epochs;
    first_two.epochs = 2;
    resumed.fit(std::tie(a, b), y, first_two);  // epochs 0 and 1
    xf::FitOptions last_two = four_epochs;
    last_two.initial_epoch = 2;
    xf::History rest = resumed.fit(std::tie(a, b), y, last_two);  // epochs 2 and 3
    // [initial epoch]
    CHECK((rest.epoch == std::vector<int>{2, 3}));
    CHECK(same_weights(straight.get_weights(), resumed.get_weights()));
    CHECK(resumed.optimizer_states().at(0).iterations == 4 * 313);

    // [determinism]
    const auto train = [&](std::uint64_t seed, bool shuffle) {
        auto m = build();
        m.initialize_weights(42);  // the same initial weights every time
        m.compile(xf::Adam{}, xf::BinaryCrossentropy{});
        m.fit(std::tie(a100, b100), y100,
              xf::FitOptions{
                  .epochs = 3, .batch_size = 10, .shuffle = shuffle, .verbose = 0, .seed = seed});
        return m.get_weights();
    };
    CHECK(same_weights(train(1, true), train(1, true)));    // same seed: the same weights
    CHECK(!same_weights(train(1, true), train(2, true)));   // another order of the batches
    CHECK(same_weights(train(1, false), train(2, false)));  // no shuffling: the seed is unused
    // [determinism]

    // [logits]
    // An output layer that is sure of itself: z = 20 for every sample, sigmoid(z) = 1.0f.
    auto sure = build();
    sure.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    sure.get_layer<"dense_2">().set_weights({xt::zeros<float>({1, 1}), xt::xarray<float>{20.0f}});
    const auto a4 = rows(a, 0, 4), b4 = rows(b, 0, 4);
    const xt::xtensor<float, 2> zeros = xt::zeros<float>({4, 1});

    const double from_logits = sure.evaluate(std::tie(a4, b4), zeros)[0];  // 20.0
    const xt::xtensor<float, 2> p = sure.predict(a4, b4);                  // 1.0 everywhere
    const double from_outputs = crossentropy_of_outputs(zeros, p);         // 15.33
    // [logits]
    std::cout << "logits path " << from_logits << ", clipped path " << from_outputs << "\n";
    CHECK(close(from_logits, 20.0, 1e-6));
    CHECK(xt::all(xt::equal(p, 1.0f)));
    CHECK(std::abs(from_outputs - 15.33) < 0.005);
    {
        // A logit of 2: the two paths agree (to float rounding).
        sure.get_layer<"dense_2">().set_weights(
            {xt::zeros<float>({1, 1}), xt::xarray<float>{2.0f}});
        const double moderate = sure.evaluate(std::tie(a4, b4), zeros)[0];
        const xt::xtensor<float, 2> q = sure.predict(a4, b4);
        const double moderate_outputs = crossentropy_of_outputs(zeros, q);
        std::cout << "logit 2: " << moderate << " vs " << moderate_outputs << "\n";
        CHECK(close(moderate, std::log1p(std::exp(2.0)), 1e-6));
        CHECK(close(moderate_outputs, moderate, 1e-6));
    }

    // [noisy data]
    // 600 samples with every tenth label flipped: the model learns the rule for a few epochs,
    // then starts to learn the flipped labels of its 300 training rows by heart.
    const auto a600 = rows(a, 0, 600), b600 = rows(b, 0, 600);
    xt::xtensor<float, 2> noisy_y = rows(y, 0, 600);
    for (std::size_t i = 0; i < 600; i += 10)
        noisy_y(i, 0) = 1.0f - noisy_y(i, 0);
    // [noisy data]
    auto noisy = build();
    noisy.initialize_weights(1);  // the page's numbers depend on nothing built before
    const std::vector<xt::xarray<float>> noisy_start = noisy.get_weights();
    // [early stopping]
    noisy.compile(xf::Adam{.learning_rate = 1e-2f}, xf::BinaryCrossentropy{});
    auto stop = std::make_shared<xf::EarlyStopping>(xf::EarlyStopping::options{
        .monitor = "val_loss", .patience = 3, .restore_best_weights = true});
    xf::History stopped = noisy.fit(
        std::tie(a600, b600), noisy_y,
        xf::FitOptions{
            .epochs = 100, .validation_split = 0.5f, .verbose = 0, .seed = 1, .callbacks = {stop}});
    // [early stopping]
    {
        const std::vector<double>& v = stopped.history.at("val_loss");
        std::cout << "val_loss:";
        for (double value : v)
            std::cout << " " << keras_number(value);
        std::cout << "\nearly stopping: " << stopped.epoch.size() << " epochs, best epoch "
                  << stop->best_epoch() << ", stopped at " << stop->stopped_epoch() << "\n";
        CHECK(stopped.epoch.size() < 100);
        CHECK(stop->stopped_epoch() == stop->best_epoch() + 3);
        CHECK(int(stopped.epoch.size()) == stop->stopped_epoch() + 1);
        CHECK(v[stop->best_epoch()] == *std::min_element(v.begin(), v.end()));
        // The weights are the best epoch's again: evaluating the validation rows gives its
        // val_loss.
        const auto av = rows(a600, 300, 300), bv = rows(b600, 300, 300);
        CHECK(noisy.evaluate(std::tie(av, bv), rows(noisy_y, 300, 300))[0] ==
              v[stop->best_epoch()]);

        // A run that uses all its epochs keeps its last weights, as in tf.keras 2.x: the same
        // start and as many epochs as the stopped run, whose last was not the best.
        auto full = build();
        full.set_weights(noisy_start);
        full.compile(xf::Adam{.learning_rate = 1e-2f}, xf::BinaryCrossentropy{});
        auto patient = std::make_shared<xf::EarlyStopping>(xf::EarlyStopping::options{
            .monitor = "val_loss", .patience = 50, .restore_best_weights = true});
        const xf::History all = full.fit(std::tie(a600, b600), noisy_y,
                                         xf::FitOptions{.epochs = int(v.size()),
                                                        .validation_split = 0.5f,
                                                        .verbose = 0,
                                                        .seed = 1,
                                                        .callbacks = {patient}});
        const std::vector<double>& w = all.history.at("val_loss");
        CHECK(w == v && w.back() > *std::min_element(w.begin(), w.end()));
        CHECK(full.evaluate(std::tie(av, bv), rows(noisy_y, 300, 300))[0] == w.back());
    }

    // [terminate on nan]
    // A learning rate that throws the weights to infinity: the loss becomes NaN.
    auto exploding = build();
    exploding.compile(xf::SGD{.learning_rate = 1e30f}, xf::BinaryCrossentropy{});
    auto nan_stop = std::make_shared<xf::TerminateOnNaN>();
    xf::History cut = exploding.fit(
        std::tie(a, b), y, xf::FitOptions{.epochs = 5, .verbose = 0, .callbacks = {nan_stop}});
    // [terminate on nan]
    std::cout << "TerminateOnNaN at batch " << nan_stop->terminated_at().value_or(-1) << ", loss "
              << cut.history.at("loss").back() << "\n";
    CHECK(nan_stop->terminated_at() == 1);
    CHECK(std::isnan(cut.history.at("loss").back()));
    CHECK(cut.epoch.size() == 1);
    CHECK(!std::isfinite(cut.history.at("loss").back()));

    // [lambda]
    // Stop as soon as the validation accuracy reaches 95 %.
    auto until = build();
    until.compile(xf::Adam{}, xf::BinaryCrossentropy{}, xf::metrics(xf::BinaryAccuracy{}));
    auto good_enough = std::make_shared<xf::LambdaCallback>(xf::LambdaCallback::functions{
        .on_epoch_end = [](int, const xf::logs& logs, xf::training_control& control) {
            if (logs.get("val_binary_accuracy").value_or(0.0) >= 0.95)
                control.stop_training = true;
        }});
    xf::History enough = until.fit(std::tie(a, b), y,
                                   xf::FitOptions{.epochs = 50,
                                                  .validation_split = 0.2f,
                                                  .verbose = 0,
                                                  .seed = 7,
                                                  .callbacks = {good_enough}});
    // [lambda]
    {
        const std::vector<double>& acc = enough.history.at("val_binary_accuracy");
        std::cout << "LambdaCallback: stopped after " << acc.size() << " epochs at " << acc.back()
                  << "\n";
        CHECK(acc.size() < 50 && acc.back() >= 0.95);
        CHECK(acc.size() < 2 || acc[acc.size() - 2] < 0.95);
    }

    {
        // evaluate() on data of one's own from on_epoch_end: the same numbers as the split's
        // val_ values, and the same training as without it.
        const auto run = [&](bool with_callback) {
            auto m = build();
            m.initialize_weights(5);
            m.compile(xf::Adam{}, xf::BinaryCrossentropy{}, xf::metrics(xf::BinaryAccuracy{}));
            std::vector<double> own;
            auto validate = std::make_shared<xf::LambdaCallback>(xf::LambdaCallback::functions{
                .on_epoch_end = [&](int, const xf::logs&, xf::training_control&) {
                    own.push_back(m.evaluate(std::tie(a_val, b_val), y_val)[0]);
                }});
            xf::FitOptions options{.epochs = 3, .validation_split = 0.2f, .verbose = 0, .seed = 2};
            if (with_callback)
                options.callbacks = {validate};
            const xf::History hv = m.fit(std::tie(a, b), y, options);
            return std::tuple{m.get_weights(), hv.history, own};
        };
        const auto [with_weights, with_history, own] = run(true);
        const auto [plain_weights, plain_history, none] = run(false);
        CHECK(same_weights(with_weights, plain_weights));
        CHECK(with_history == plain_history);
        CHECK(own == with_history.at("val_loss"));
    }

    // Keras' defaults, as the table on the page gives them.
    CHECK(xf::SGD{}.learning_rate == 0.01f && xf::SGD{}.momentum == 0.0f && !xf::SGD{}.nesterov);
    CHECK(xf::Adam{}.learning_rate == 1e-3f && xf::Adam{}.beta_1 == 0.9f &&
          xf::Adam{}.beta_2 == 0.999f && xf::Adam{}.epsilon == 1e-7f && !xf::Adam{}.amsgrad);
    CHECK(xf::AdamW{}.learning_rate == 1e-3f && xf::AdamW{}.weight_decay == 0.004f &&
          xf::AdamW{}.beta_1 == 0.9f && xf::AdamW{}.beta_2 == 0.999f &&
          xf::AdamW{}.epsilon == 1e-7f && !xf::AdamW{}.amsgrad);
    CHECK(xf::RMSprop{}.learning_rate == 1e-3f && xf::RMSprop{}.rho == 0.9f &&
          xf::RMSprop{}.momentum == 0.0f && xf::RMSprop{}.epsilon == 1e-7f &&
          !xf::RMSprop{}.centered);
    CHECK(xf::Adagrad{}.learning_rate == 1e-3f && xf::Adagrad{}.initial_accumulator_value == 0.1f &&
          xf::Adagrad{}.epsilon == 1e-7f);
    CHECK(!xf::BinaryCrossentropy{}.from_logits && xf::BinaryCrossentropy{}.label_smoothing == 0);
    CHECK(!xf::CategoricalCrossentropy{}.from_logits &&
          xf::CategoricalCrossentropy{}.label_smoothing == 0);
    CHECK(!xf::SparseCategoricalCrossentropy{}.from_logits);
    CHECK(xf::Huber{}.delta == 1.0f);
    CHECK(xf::BinaryAccuracy{}.threshold == 0.5f);
    CHECK((xf::metrics(xf::BinaryAccuracy{}, xf::CategoricalAccuracy{},
                       xf::SparseCategoricalAccuracy{}, xf::MeanAbsoluteError{})
               .names() == std::vector<std::string>{"binary_accuracy", "categorical_accuracy",
                                                    "sparse_categorical_accuracy",
                                                    "mean_absolute_error"}));

    // [other settings]
    auto other = build();
    other.compile(xf::SGD{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true},
                  xf::MeanSquaredError{},
                  xf::metrics(xf::BinaryAccuracy{.name = "accuracy"}, xf::MeanAbsoluteError{}));
    xf::History sgd = other.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 5, .verbose = 0});
    // sgd.history: "loss", "accuracy", "mean_absolute_error"
    // [other settings]
    std::cout << "SGD + MSE: accuracy " << sgd.history.at("accuracy").back() << ", mae "
              << sgd.history.at("mean_absolute_error").back() << "\n";
    CHECK(sgd.history.size() == 3);
    CHECK(sgd.history.at("accuracy").back() >= 0.9);
    CHECK(sgd.history.at("loss").back() < sgd.history.at("loss").front());

    // Every optimizer, at Keras' defaults, lowers the loss from the same initial weights.
    {
        const auto trains = [&](const auto& optimizer) {
            auto m = build();
            m.initialize_weights(1);
            m.compile(optimizer, xf::BinaryCrossentropy{});
            const double before = m.evaluate(std::tie(a, b), y)[0];
            m.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 2, .verbose = 0, .seed = 1});
            return m.evaluate(std::tie(a, b), y)[0] < before;
        };
        CHECK(trains(xf::SGD{}));
        CHECK(trains(xf::Adam{}));
        CHECK(trains(xf::AdamW{}));
        CHECK(trains(xf::RMSprop{}));
        CHECK(trains(xf::Adagrad{}));
    }

    // [errors]
    auto guarded = build();
    guarded.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    const std::vector<xt::xarray<float>> untouched = guarded.get_weights();
    try {
        const xt::xtensor<float, 2> wrong = xt::zeros<float>({9999, 1});
        guarded.fit(std::tie(a, b), wrong);
    } catch (const std::invalid_argument& error) {
        std::cerr << error.what() << "\n";  // and not one weight has changed
    }
    // [errors]
    {
        const auto quietly = xf::FitOptions{.verbose = 0};
        std::ostringstream silent;  // fit's progress display, which must stay empty
        const xt::xtensor<float, 2> narrow = xt::zeros<float>({10000, 19});
        const auto short_b = rows(b, 0, 9999);
        const xt::xtensor<float, 2> wrong = xt::zeros<float>({9999, 1});
        const xt::xtensor<float, 2> wide = xt::zeros<float>({10000, 2});
        xt::xtensor<float, 2> with_nan = a;
        with_nan(5, 3) = std::numeric_limits<float>::quiet_NaN();
        xt::xtensor<float, 2> y_inf = y;
        y_inf(7, 0) = std::numeric_limits<float>::infinity();
        const std::vector<std::string> messages{
            invalid_argument_from([&] { guarded.fit(std::tie(a, b), wrong, {}, silent); }),
            invalid_argument_from([&] { guarded.fit(std::tie(a, b), wide, {}, silent); }),
            invalid_argument_from([&] { guarded.fit(std::tie(a, narrow), y, {}, silent); }),
            invalid_argument_from([&] { guarded.fit(std::tie(a, short_b), y, {}, silent); }),
            invalid_argument_from([&] { guarded.fit(std::tie(with_nan, b), y, quietly); }),
            invalid_argument_from([&] { guarded.fit(std::tie(a, b), y_inf, quietly); }),
            invalid_argument_from([&] {
                guarded.fit(std::tie(a, b), y, xf::FitOptions{.batch_size = 0, .verbose = 0});
            }),
            invalid_argument_from([&] {
                guarded.fit(std::tie(a, b), y,
                            xf::FitOptions{.validation_split = 1.0f, .verbose = 0});
            }),
            invalid_argument_from([&] {
                guarded.fit(std::tie(a, b), y,
                            xf::FitOptions{.validation_split = -0.1f, .verbose = 0});
            }),
            invalid_argument_from([&] { guarded.evaluate(std::tie(a, b), wrong); }),
        };
        const std::vector<std::string> expected{
            "xfuse: Model::fit labels y for output 'dense_2': expected shape (10000, 1), got "
            "(9999, 1)",
            "xfuse: Model::fit labels y for output 'dense_2': expected shape (10000, 1), got "
            "(10000, 2)",
            "xfuse: Model::fit input 'input_2': expected shape (None, 20), got (10000, 19)",
            "xfuse: Model::fit: inputs 'input_1' and 'input_2' have different numbers of samples "
            "(10000 vs 9999)",
            "xfuse: Model::fit: input 'input_1' must be finite, but element 53 is nan",
            "xfuse: Model::fit: labels y for output 'dense_2' must be finite, but element 7 is inf",
            "xfuse::FitOptions: batch_size must be >= 1, got 0",
            "xfuse::FitOptions: validation_split must lie in [0, 1), got 1.000000",
            "xfuse::FitOptions: validation_split must lie in [0, 1), got -0.100000",
            "xfuse: Model::evaluate labels y for output 'dense_2': expected shape (10000, 1), got "
            "(9999, 1)",
        };
        CHECK(messages == expected);
        CHECK(silent.str().empty());
        if (messages != expected)
            for (const auto& m : messages)
                std::cerr << "  " << m << "\n";
        CHECK(same_weights(guarded.get_weights(), untouched));
        CHECK(guarded.optimizer_states().empty());
        auto uncompiled = build();
        bool logic_error = false;
        try {
            uncompiled.fit(std::tie(a, b), y, quietly);
        } catch (const std::logic_error& error) {
            logic_error = std::string(error.what()) == "xfuse: Model::fit: call compile() first" &&
                          dynamic_cast<const std::invalid_argument*>(&error) == nullptr;
        }
        CHECK(logic_error);
    }

    return docs::exit_code();
}
