// xf::ModelCheckpoint in fit(): a file per epoch whose contents resume the run bit for bit; only
// improvements with save_best_only (scripted logs worked out by hand from Keras' _save_model, and
// a real run checked against its History); weights-only files; saving every N batches; options
// refused as Keras would not silently take them.
#define BOOST_TEST_MODULE io_keras_h5_model_checkpoint
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <limits>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"
#include "io/training_checkpoint_support.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

// 160 rows: 128 train in 4 batches of 32.
struct data_set : checkpoint_test::data_set {
    data_set() : checkpoint_test::data_set(160, 3) {}
};

xf::FitOptions options(int epochs, xf::callback_list callbacks = {}, int initial_epoch = 0) {
    return checkpoint_test::options(epochs, initial_epoch, std::move(callbacks), 11);
}

seed::model_type compiled_model() {
    auto model = seed::build();
    model.initialize_weights(21);
    model.compile(xf::Adam{.learning_rate = 1e-2f}, xf::BinaryCrossentropy{},
                  xf::metrics(xf::BinaryAccuracy{}));
    return model;
}

std::vector<std::string> sorted_entries(const scratch_dir& dir) {
    auto names = dir.entries();
    std::sort(names.begin(), names.end());
    return names;
}

xf::logs val_loss(double value) {
    xf::logs l;
    l.set("loss", 1.0);
    l.set("val_loss", value);
    return l;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_epoch_a_checkpoint_that_resumes_the_run) {
    scratch_dir dir;
    const data_set d;
    auto model = compiled_model();
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, xf::ModelCheckpoint::options{.filepath = (dir.path / "ckpt-{epoch:02d}.h5")});
    model.fit(std::tie(d.a, d.b), d.y, options(3, {checkpoint}));
    BOOST_TEST(sorted_entries(dir) ==
               (std::vector<std::string>{"ckpt-01.h5", "ckpt-02.h5", "ckpt-03.h5"}));
    BOOST_TEST(checkpoint->last_saved() == dir.path / "ckpt-03.h5");

    auto last = compiled_model();
    last.load_checkpoint(dir.path / "ckpt-03.h5");
    BOOST_TEST(same_bits(last.get_weights(), model.get_weights()));

    // Epoch 2's file, in a new model, continues as the run did.
    auto resumed = seed::build();
    resumed.compile(xf::Adam{.learning_rate = 1e-2f}, xf::BinaryCrossentropy{},
                    xf::metrics(xf::BinaryAccuracy{}));
    resumed.load_checkpoint(dir.path / "ckpt-02.h5");
    BOOST_TEST(resumed.optimizer_states().at(0).iterations == 2 * 4);
    resumed.fit(std::tie(d.a, d.b), d.y, options(3, {}, 2));
    BOOST_TEST(same_bits(resumed.get_weights(), model.get_weights()));
}

// Keras: save when monitor_op(current, best), then best = current; no monitor, no save.
BOOST_AUTO_TEST_CASE(save_best_only_saves_improvements) {
    scratch_dir dir;
    auto model = compiled_model();
    xf::ModelCheckpoint checkpoint(
        model, {.filepath = (dir.path / "best-{epoch}-{val_loss:.4f}.h5"), .save_best_only = true});
    BOOST_TEST(!checkpoint.maximises());
    xf::training_control control;
    const double values[] = {0.5, 0.4, 0.45, 0.4, 0.3};
    for (int epoch = 0; epoch < 5; ++epoch)
        checkpoint.on_epoch_end(epoch, val_loss(values[epoch]), control);
    xf::logs no_monitor;
    no_monitor.set("loss", 0.01);
    checkpoint.on_epoch_end(5, no_monitor, control);
    BOOST_TEST(sorted_entries(dir) ==
               (std::vector<std::string>{"best-1-0.5000.h5", "best-2-0.4000.h5",
                                         "best-5-0.3000.h5"}));  // 0.4 again is no improvement
    BOOST_TEST(checkpoint.best() == 0.3);

    // "acc" anywhere in the name maximises; a threshold sets the first best.
    scratch_dir other;
    xf::ModelCheckpoint accuracy(model, {.filepath = (other.path / "{epoch}.h5"),
                                         .monitor = "val_binary_accuracy",
                                         .save_best_only = true,
                                         .initial_value_threshold = 0.6});
    BOOST_TEST(accuracy.maximises());
    for (int epoch = 0; epoch < 3; ++epoch) {
        xf::logs l;
        l.set("val_binary_accuracy", epoch == 1 ? 0.7 : 0.55);
        accuracy.on_epoch_end(epoch, l, control);
    }
    BOOST_TEST(sorted_entries(other) == std::vector<std::string>{"2.h5"});
    xf::ModelCheckpoint minimised(
        model, {.filepath = "x.h5", .monitor = "val_binary_accuracy", .mode = "min"});
    BOOST_TEST(!minimised.maximises());
}

// In fit: the files are exactly the epochs whose val_loss beat every earlier one.
BOOST_AUTO_TEST_CASE(save_best_only_in_fit_follows_the_history) {
    scratch_dir dir;
    const data_set d;
    auto model = seed::build();
    model.initialize_weights(21);
    // A step size large enough that val_loss goes up on some epochs.
    model.compile(xf::Adam{.learning_rate = 0.1f}, xf::BinaryCrossentropy{});
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, xf::ModelCheckpoint::options{.filepath = (dir.path / "e{epoch:02d}.h5"),
                                            .save_best_only = true});
    const xf::History h = model.fit(std::tie(d.a, d.b), d.y, options(8, {checkpoint}));
    std::vector<std::string> expected;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t e = 0; e < h.epoch.size(); ++e)
        if (h.history.at("val_loss")[e] < best) {
            best = h.history.at("val_loss")[e];
            expected.push_back((e < 9 ? "e0" : "e") + std::to_string(e + 1) + ".h5");
        }
    BOOST_TEST(sorted_entries(dir) == expected);
    BOOST_TEST(checkpoint->best() == best);
    BOOST_TEST(expected.size() > 1u);
    BOOST_TEST(expected.size() < 8u);  // some epochs did not improve
}

BOOST_AUTO_TEST_CASE(save_weights_only_writes_a_weights_file) {
    scratch_dir dir;
    const data_set d;
    auto model = compiled_model();
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, xf::ModelCheckpoint::options{.filepath = (dir.path / "sub" / "w.h5"),
                                            .save_weights_only = true});
    model.fit(std::tie(d.a, d.b), d.y, options(1, {checkpoint}));
    auto loaded = compiled_model();
    loaded.load_weights(dir.path / "sub" / "w.h5");  // the directory was created
    BOOST_TEST(same_bits(loaded.get_weights(), model.get_weights()));
    check_throws<xf::io::weight_file_error>(
        [&] { loaded.load_checkpoint(dir.path / "sub" / "w.h5"); }, {"no optimizer state"});
}

// save_freq = 3 over 2 epochs of 4 batches: after batches 3 and 6 overall, named with the
// epoch and the batch within it (both 1-based, as Keras formats them).
BOOST_AUTO_TEST_CASE(save_freq_counts_batches_across_epochs) {
    scratch_dir dir;
    const data_set d;
    auto model = compiled_model();
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, xf::ModelCheckpoint::options{.filepath = (dir.path / "b-{epoch}-{batch}.h5"),
                                            .save_freq = 3});
    model.fit(std::tie(d.a, d.b), d.y, options(2, {checkpoint}));
    BOOST_TEST(sorted_entries(dir) == (std::vector<std::string>{"b-1-3.h5", "b-2-2.h5"}));
    auto loaded = compiled_model();
    loaded.load_checkpoint(dir.path / "b-2-2.h5");
    BOOST_TEST(loaded.optimizer_states().at(0).iterations == 6);
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
    auto model = compiled_model();
    using opts = xf::ModelCheckpoint::options;
    check_throws<std::invalid_argument>(
        [&] { xf::ModelCheckpoint(model, opts{.filepath = "c.h5", .mode = "best"}); },
        {"mode must be \"auto\", \"min\" or \"max\", got \"best\""});
    check_throws<std::invalid_argument>(
        [&] { xf::ModelCheckpoint(model, opts{.filepath = "c.h5", .save_freq = "batch"}); },
        {"save_freq must be \"epoch\" or a number of batches, got \"batch\""});
    check_throws<std::invalid_argument>(
        [&] { xf::ModelCheckpoint(model, opts{.filepath = "c.h5", .save_freq = 0}); },
        {"save_freq must be >= 1 batches, got 0"});
    check_throws<std::invalid_argument>([&] { xf::ModelCheckpoint(model, opts{}); },
                                        {"filepath is empty"});
    check_throws<std::invalid_argument>(
        [&] { xf::ModelCheckpoint(model, opts{.filepath = "c-{epoch:>2}.h5"}); },
        {"unsupported format spec '>2'"});

    // A field the logs do not have fails the save, and fit with it, naming the pattern.
    scratch_dir dir;
    const data_set d;
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, opts{.filepath = (dir.path / "{val_acc:.2f}.h5")});
    check_throws<std::invalid_argument>(
        [&] { model.fit(std::tie(d.a, d.b), d.y, options(1, {checkpoint})); },
        {"no value named 'val_acc'"});
    BOOST_TEST(dir.entries().empty());
}
