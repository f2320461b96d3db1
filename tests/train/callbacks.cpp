#define BOOST_TEST_MODULE train_callbacks
#include <boost/test/unit_test.hpp>

#include <xfuse/train/callbacks.hpp>
#include <xfuse/train/fit_options.hpp>
#include <xfuse/train/history.hpp>
#include <xfuse/train/metrics.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

// Callbacks driven by scripted log sequences, as fit() would call them; the expected epochs are
// worked out by hand from Keras' EarlyStopping.on_epoch_end (tf.keras 2.13-2.15).

namespace xf = xfuse;

namespace {

struct run_result {
    int epochs_run = 0;
    int restored_from = -1;  // the epoch whose snapshot came back, -1 if none
};

// Runs epochs with `monitor` = values[e]; the "weights" are the epoch number.
run_result drive(xf::EarlyStopping& cb, const std::string& monitor,
                 const std::vector<double>& values) {
    int weights = -1;
    run_result result;
    xf::training_control control;
    control.snapshot_weights = [&] { return xf::weights_snapshot{{float(weights)}}; };
    control.restore_weights = [&](const xf::weights_snapshot& s) {
        result.restored_from = int(s.at(0).at(0));
    };
    cb.on_train_begin(control);
    for (int e = 0; e < int(values.size()) && !control.stop_training; ++e) {
        weights = e;  // the weights after epoch e's training
        xf::logs l;
        l.set("loss", 1.0);
        l.set(monitor, values[e]);
        cb.on_epoch_end(e, l, control);
        result.epochs_run = e + 1;
    }
    return result;
}

}  // namespace

BOOST_AUTO_TEST_CASE(early_stopping_patience_zero) {
    xf::EarlyStopping cb;  // val_loss, patience 0, min mode
    BOOST_TEST(!cb.maximises());
    const run_result r = drive(cb, "val_loss", {1.0, 0.9, 0.95, 0.5});
    BOOST_TEST(r.epochs_run == 3);
    BOOST_TEST(cb.stopped_epoch() == 2);
    BOOST_TEST(cb.best_epoch() == 1);
    BOOST_TEST(cb.best() == 0.9);
    BOOST_TEST(r.restored_from == -1);
}

BOOST_AUTO_TEST_CASE(early_stopping_restores_best_epoch) {
    xf::EarlyStopping cb({.patience = 2, .restore_best_weights = true});
    const run_result r = drive(cb, "val_loss", {0.5, 0.6, 0.4, 0.45, 0.41, 0.3});
    BOOST_TEST(r.epochs_run == 5);  // epochs 3 and 4 do not improve on 0.4: wait reaches 2
    BOOST_TEST(cb.stopped_epoch() == 4);
    BOOST_TEST(r.restored_from == 2);
}

BOOST_AUTO_TEST_CASE(early_stopping_restores_first_epoch_when_nothing_improves) {
    // mode max on a loss name: 0.5 at epoch 0 is the best; nothing after improves.
    xf::EarlyStopping cb(
        {.monitor = "loss_like", .patience = 1, .mode = "max", .restore_best_weights = true});
    const run_result r = drive(cb, "loss_like", {0.5, 0.4, 0.3});
    BOOST_TEST(r.epochs_run == 2);
    BOOST_TEST(r.restored_from == 0);
}

BOOST_AUTO_TEST_CASE(early_stopping_mode_auto) {
    BOOST_TEST(xf::EarlyStopping({.monitor = "val_binary_accuracy"}).maximises());
    BOOST_TEST(xf::EarlyStopping({.monitor = "val_acc"}).maximises());
    BOOST_TEST(xf::EarlyStopping({.monitor = "auc"}).maximises());
    BOOST_TEST(!xf::EarlyStopping({.monitor = "val_mean_absolute_error"}).maximises());
    BOOST_TEST(!xf::EarlyStopping({.monitor = "val_accuracy", .mode = "min"}).maximises());
    xf::EarlyStopping cb({.monitor = "val_binary_accuracy", .patience = 1});
    const run_result r = drive(cb, "val_binary_accuracy", {0.6, 0.7, 0.65, 0.8});
    BOOST_TEST(r.epochs_run == 3);
    BOOST_TEST(cb.best() == 0.7);
}

BOOST_AUTO_TEST_CASE(early_stopping_min_delta_and_baseline) {
    // min_delta 0.1 (sign ignored): 0.95 is not 0.1 better than 1.0.
    xf::EarlyStopping delta({.min_delta = -0.1, .patience = 1});
    BOOST_TEST(drive(delta, "val_loss", {1.0, 0.95, 0.5}).epochs_run == 2);
    // Baseline 0.5: improvements that do not beat it do not reset wait, but an improving epoch
    // never stops; the first non-improving one does once wait >= patience.
    xf::EarlyStopping baseline({.patience = 2, .baseline = 0.5});
    BOOST_TEST(drive(baseline, "val_loss", {0.8, 0.7, 0.6, 0.65, 0.1}).epochs_run == 4);
    BOOST_TEST(baseline.stopped_epoch() == 3);
    xf::EarlyStopping no_baseline({.patience = 2});
    BOOST_TEST(drive(no_baseline, "val_loss", {0.8, 0.7, 0.6, 0.65, 0.1}).epochs_run == 5);
}

BOOST_AUTO_TEST_CASE(early_stopping_missing_monitor_and_start_epoch) {
    xf::EarlyStopping missing({.monitor = "val_loss"});
    BOOST_TEST(drive(missing, "something_else", {1, 2, 3, 4}).epochs_run == 4);
    xf::EarlyStopping late({.monitor = "val_loss", .start_from_epoch = 3});
    BOOST_TEST(drive(late, "val_loss", {1, 2, 3, 4, 5}).epochs_run == 5);  // epoch 3 is best
    BOOST_CHECK_THROW(xf::EarlyStopping({.mode = "biggest"}), std::invalid_argument);
    BOOST_CHECK_THROW(xf::EarlyStopping({.patience = -1}), std::invalid_argument);
    // Reusable: on_train_begin resets the state.
    xf::EarlyStopping again;
    drive(again, "val_loss", {1.0, 2.0});
    BOOST_TEST(drive(again, "val_loss", {1.0, 0.5, 0.4}).epochs_run == 3);
}

BOOST_AUTO_TEST_CASE(terminate_on_nan_and_lambda) {
    xf::TerminateOnNaN cb;
    xf::training_control control;
    xf::logs l;
    l.set("loss", 0.7);
    cb.on_train_batch_end(0, l, control);
    BOOST_TEST(!control.stop_training);
    l.set("loss", std::numeric_limits<double>::quiet_NaN());
    cb.on_train_batch_end(1, l, control);
    BOOST_TEST(control.stop_training);
    BOOST_TEST(cb.terminated_at().value() == 1);
    xf::training_control inf_control;
    l.set("loss", std::numeric_limits<double>::infinity());
    xf::TerminateOnNaN().on_train_batch_end(5, l, inf_control);
    BOOST_TEST(inf_control.stop_training);

    int batches = 0;
    std::vector<double> seen;
    xf::LambdaCallback lambda(
        {.on_epoch_end =
             [&](int epoch, const xf::logs& logs, xf::training_control& c) {
                 seen.push_back(*logs.get("loss"));
                 c.stop_training = epoch == 1;
             },
         .on_batch_end = [&](int, const xf::logs&, xf::training_control&) { ++batches; }});
    xf::training_control c;
    lambda.on_train_batch_end(0, l, c);
    lambda.on_train_batch_end(1, l, c);
    l.set("loss", 0.25);
    lambda.on_epoch_end(0, l, c);
    BOOST_TEST(!c.stop_training);
    lambda.on_epoch_end(1, l, c);
    BOOST_TEST(c.stop_training);
    BOOST_TEST(batches == 2);
    BOOST_TEST(seen == (std::vector<double>{0.25, 0.25}));
}

BOOST_AUTO_TEST_CASE(history_records_epochs) {
    xf::History h;
    h.params = {.verbose = 1, .epochs = 2, .steps = 7};
    xf::logs l;
    l.set("loss", 0.7);
    l.set("binary_accuracy", 0.5);
    l.set("val_loss", 0.69);
    h.on_epoch_end(0, l);
    l.set("loss", 0.6);
    h.on_epoch_end(1, l);
    BOOST_TEST(h.history.at("loss") == (std::vector<double>{0.7, 0.6}));
    BOOST_TEST(h.history.at("val_loss").size() == 2u);
    BOOST_TEST(h.history.at("binary_accuracy").size() == 2u);
    BOOST_TEST(h.epoch == (std::vector<int>{0, 1}));
    BOOST_TEST(l.values.front().first == "loss");  // insertion order kept for display
}

BOOST_AUTO_TEST_CASE(fit_options_as_in_the_issue) {
    const xf::FitOptions o{.epochs = 10,
                           .batch_size = 32,
                           .validation_split = 0.2f,
                           .shuffle = true,
                           .verbose = 1,
                           .seed = 7};
    BOOST_CHECK_NO_THROW(o.validate());
    BOOST_TEST(o.seed.value() == 7u);
    BOOST_TEST(o.training_rows(10000) == 8000u);  // not 7999 (double(0.2f) > 0.2)
    BOOST_TEST(xf::FitOptions{.validation_split = 0.3f}.training_rows(10000) == 7000u);
    BOOST_TEST(xf::FitOptions{.validation_split = 0.25f}.training_rows(10) == 7u);
    BOOST_TEST(xf::FitOptions{}.training_rows(200) == 200u);
    const xf::FitOptions defaults;
    BOOST_TEST(defaults.epochs == 1);
    BOOST_TEST(defaults.batch_size == 32u);
    BOOST_TEST(defaults.shuffle);
    BOOST_TEST(defaults.verbose == 1);
    BOOST_TEST(!defaults.seed.has_value());
    const xf::FitOptions with_callbacks{.epochs = 3,
                                        .callbacks = {std::make_shared<xf::EarlyStopping>(),
                                                      std::make_shared<xf::TerminateOnNaN>()}};
    BOOST_TEST(with_callbacks.callbacks.size() == 2u);
    BOOST_CHECK_THROW(xf::FitOptions{.batch_size = 0}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::FitOptions{.validation_split = 1.0f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::FitOptions{.validation_split = -0.1f}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::FitOptions{.verbose = 3}.validate(), std::invalid_argument);
    BOOST_CHECK_THROW(xf::FitOptions{.epochs = -1}.validate(), std::invalid_argument);
}
