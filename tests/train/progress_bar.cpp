#define BOOST_TEST_MODULE train_progress_bar
#include <boost/test/unit_test.hpp>

#include <xfuse/train/progress_bar.hpp>

#include <sstream>
#include <string>

// The exact text of tf.keras 2.x's Progbar/ProgbarLogger for scripted clocks and logs. Expected
// strings are written out by hand from Keras' Progbar.update (generic_utils.py, TF 2.15).

namespace xf = xfuse;

namespace {
struct scripted_clock {
    double now = 0;
    auto function() {
        return [this] { return now; };
    }
};
xf::logs make_logs(std::initializer_list<std::pair<const char*, double>> values) {
    xf::logs l;
    for (auto [k, v] : values)
        l.set(k, v);
    return l;
}
}  // namespace

BOOST_AUTO_TEST_CASE(time_and_value_formats) {
    BOOST_TEST(xf::detail::format_time(0.003, "step") == " 3ms/step");
    BOOST_TEST(xf::detail::format_time(0.0, "step") == " 0s/step");
    BOOST_TEST(xf::detail::format_time(2.5, "epoch") == " 2s/epoch");  // .0f: half to even
    BOOST_TEST(xf::detail::format_time(0.00012, "step") == " 120us/step");
    BOOST_TEST(xf::detail::format_eta(5.9) == "5s");
    BOOST_TEST(xf::detail::format_eta(75) == "1:15");
    BOOST_TEST(xf::detail::format_eta(3725) == "1:02:05");
    BOOST_TEST(xf::detail::format_value(0.69314718, true) == " 0.6931");
    BOOST_TEST(xf::detail::format_value(0.0005, true) == " 5.0000e-04");
    BOOST_TEST(xf::detail::format_value(-0.5, true) == " -0.5000");
    BOOST_TEST(xf::detail::format_value(-0.5, false) == " -5.0000e-01");  // verbose=2's rule
}

// Not a terminal: `Epoch i/N` and one final line per epoch, nothing in between.
BOOST_AUTO_TEST_CASE(verbose_1_to_a_file) {
    std::ostringstream out;
    scripted_clock clock;
    xf::progress_logger logger(out, 1, 2, 7, false, clock.function());
    for (int epoch = 0; epoch < 2; ++epoch) {
        clock.now = 10.0 * epoch;
        logger.on_epoch_begin(epoch);
        const double times[7] = {0.5, 0.51, 0.6, 0.65, 0.7, 0.75, 0.78};
        for (std::size_t b = 0; b < 7; ++b) {
            clock.now = 10.0 * epoch + times[b];
            logger.on_train_batch_end(b, make_logs({{"loss", 0.693147}, {"binary_accuracy", 0.5}}));
        }
        clock.now = 10.0 * epoch + 0.8;
        logger.on_epoch_end(
            make_logs({{"loss", 0.693147}, {"binary_accuracy", 0.5}, {"val_loss", 0.0005}}));
    }
    // Step time: (0.8 - 0.5) / 6 = 50 ms (the first step left out); elapsed 0.8 s -> "1s".
    const std::string line =
        "7/7 [==============================] - 1s 50ms/step - loss: 0.6931 - binary_accuracy: "
        "0.5000 - val_loss: 5.0000e-04\n";
    BOOST_TEST(out.str() == "Epoch 1/2\n" + line + "Epoch 2/2\n" + line);
}

// A terminal: each update redraws in place with "\b" * previous width and "\r"; the ETA while
// running; updates closer than 0.05 s are skipped; the last one always drawn.
BOOST_AUTO_TEST_CASE(verbose_1_on_a_terminal) {
    std::ostringstream out;
    scripted_clock clock;
    xf::progress_logger logger(out, 1, 1, 3, true, clock.function());
    logger.on_epoch_begin(0);  // one epoch: no "Epoch 1/1"
    clock.now = 1.0;
    logger.on_train_batch_end(0, make_logs({{"loss", 0.5}}));
    clock.now = 1.01;  // within 0.05 s of the last draw: skipped
    logger.on_train_batch_end(1, make_logs({{"loss", 0.4}}));
    clock.now = 3.0;
    logger.on_train_batch_end(1, make_logs({{"loss", 0.25}}));
    clock.now = 4.0;
    logger.on_epoch_end(make_logs({{"loss", 0.2}, {"val_loss", 0.3}}));
    const std::string first = "\r1/3 [=========>....................] - ETA: 2s - loss: 0.5000";
    // per step (3 - 1) / 1 = 2 s, one step left.
    const std::string second =
        std::string(61, '\b') + "\r2/3 [===================>..........] - ETA: 2s - loss: 0.2500";
    // per step (4 - 1) / 2 = 1.5 s -> "2s/step" (.0f rounds half to even), elapsed 4 s.
    const std::string last = std::string(61, '\b') +
                             "\r3/3 [==============================] - 4s 2s/step - loss: 0.2000 "
                             "- val_loss: 0.3000\n";
    BOOST_TEST(first.size() == 62u);
    BOOST_TEST(out.str() == first + second + last);
}

// A shorter redraw is padded with spaces over the previous one.
BOOST_AUTO_TEST_CASE(shorter_redraw_is_padded) {
    std::ostringstream out;
    scripted_clock clock;
    xf::progress_bar bar(out, 2, 1, true, clock.function());
    clock.now = 1.0;
    bar.update(1, make_logs({{"loss", 0.5}, {"binary_accuracy", 0.25}}), false);
    const std::string first = out.str();
    clock.now = 2.0;  // still step 1: 2 s per step so far, one step left
    bar.update(1, make_logs({{"loss", 0.5}}), false);
    const std::string second = out.str().substr(first.size());
    BOOST_TEST(second == std::string(first.size() - 1, '\b') +
                             "\r1/2 [==============>...............]" +
                             " - ETA: 2s - loss: 0.5000" +
                             std::string(std::string(" - binary_accuracy: 0.2500").size(), ' '));
}

BOOST_AUTO_TEST_CASE(verbose_2_and_0) {
    std::ostringstream out;
    scripted_clock clock;
    xf::progress_logger logger(out, 2, 10, 250, false, clock.function());
    logger.on_epoch_begin(0);
    for (std::size_t b = 0; b < 250; ++b) {
        clock.now = 0.003 * double(b + 1);
        logger.on_train_batch_end(b, make_logs({{"loss", 0.7}}));
    }
    // Keras records the epoch's end at every update with current == target, the final one (after
    // validation) included, so the suffix is 1.2 s/epoch and 1.2 / 250 = 4.8 ms/step.
    clock.now = 1.2;
    logger.on_epoch_end(make_logs({{"loss", 0.693147}, {"val_loss", 0.693}}));
    BOOST_TEST(out.str() ==
               "Epoch 1/10\n250/250 - 1s - loss: 0.6931 - val_loss: 0.6930 - 1s/epoch - "
               "5ms/step\n");

    std::ostringstream silent;
    xf::progress_logger quiet(silent, 0, 10, 3, true, clock.function());
    quiet.on_epoch_begin(0);
    quiet.on_train_batch_end(0, make_logs({{"loss", 0.7}}));
    quiet.on_epoch_end(make_logs({{"loss", 0.7}}));
    BOOST_TEST(silent.str().empty());
}

BOOST_AUTO_TEST_CASE(digits_follow_the_target) {
    std::ostringstream out;
    scripted_clock clock;
    xf::progress_bar bar(out, 100, 1, true, clock.function());
    clock.now = 1.0;
    bar.update(7, make_logs({}), false);
    // int(30 * 7 / 100) = 2 cells; "%3d/%d".
    BOOST_TEST(out.str().substr(0, 12) == "\r  7/100 [=>");
}
