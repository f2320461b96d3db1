// model.save_checkpoint / load_checkpoint: training resumed from a checkpoint in a new model ends
// with the weights and optimizer state of the run that never stopped, bit for bit, for every
// optimizer; the file holds Keras' names and order with the trainer's values; a Keras full-model
// file's Adam state resumes; a bad or mismatched checkpoint changes neither the weights nor the
// optimizer state.
#define BOOST_TEST_MODULE io_keras_h5_training_checkpoint
#include <boost/test/unit_test.hpp>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"
#include "io/training_checkpoint_support.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

using checkpoint_test::options;
using checkpoint_test::same_states;

// 200 rows: 160 train in 5 batches of 32.
struct data_set : checkpoint_test::data_set {
    data_set() : checkpoint_test::data_set(200, 1) {}
};

template <class Model>
void compile(Model& model, const xf::any_optimizer& optimizer) {
    std::visit([&](const auto& o) { model.compile(o, xf::BinaryCrossentropy{}); }, optimizer);
}

// 4 epochs straight, and 2 + checkpoint + a new model + 2 more, from the same start.
void check_resume(const xf::any_optimizer& optimizer, const std::string& what) {
    BOOST_TEST_CONTEXT(what) {
        scratch_dir dir;
        const data_set d;
        auto straight = seed::build();
        straight.initialize_weights(3);
        compile(straight, optimizer);
        straight.fit(std::tie(d.a, d.b), d.y, options(4));

        auto first = seed::build();
        first.initialize_weights(3);
        compile(first, optimizer);
        first.fit(std::tie(d.a, d.b), d.y, options(2));
        first.save_checkpoint(dir.path / "run.h5");

        auto resumed = seed::build();  // other initial weights, a fresh optimizer
        compile(resumed, optimizer);
        resumed.load_checkpoint(dir.path / "run.h5");
        BOOST_TEST(same_bits(resumed.get_weights(), first.get_weights()));
        BOOST_TEST(same_states(resumed.optimizer_states(), first.optimizer_states()));
        resumed.fit(std::tie(d.a, d.b), d.y, options(4, 2));
        BOOST_TEST(same_bits(resumed.get_weights(), straight.get_weights()));
        BOOST_TEST(same_states(resumed.optimizer_states(), straight.optimizer_states()));
        BOOST_TEST(resumed.optimizer_states()[0].iterations == 4 * 5);  // 160 rows, batches of 32

        // The state matters: the weights alone do not resume the same run (plain SGD has none).
        if (xf::io::detail::keras_naming(optimizer).slots.empty())
            return;
        auto weights_only = seed::build();
        compile(weights_only, optimizer);
        weights_only.load_weights(dir.path / "run.h5");
        weights_only.fit(std::tie(d.a, d.b), d.y, options(4, 2));
        BOOST_TEST(!same_bits(weights_only.get_weights(), straight.get_weights()));
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(resumed_training_is_bit_identical_for_every_optimizer) {
    check_resume(xf::Adam{}, "Adam");
    check_resume(xf::Adam{.learning_rate = 3e-3f, .amsgrad = true}, "Adam amsgrad");
    check_resume(xf::AdamW{.weight_decay = 0.01f}, "AdamW");
    check_resume(xf::SGD{.learning_rate = 0.05f}, "SGD");
    check_resume(xf::SGD{.learning_rate = 0.05f, .momentum = 0.9f, .nesterov = true},
                 "SGD Nesterov");
    check_resume(xf::RMSprop{.momentum = 0.5f, .centered = true}, "RMSprop centered momentum");
    check_resume(xf::Adagrad{.learning_rate = 0.05f}, "Adagrad");
}

// The file against the trainer's padded buffers, read here with the model's parameter pointers
// and padded row strides rather than the conversion under test.
BOOST_AUTO_TEST_CASE(the_file_holds_keras_names_order_and_the_trainers_values) {
    scratch_dir dir;
    const data_set d;
    auto model = seed::build();
    model.compile(xf::RMSprop{.momentum = 0.5f, .centered = true}, xf::BinaryCrossentropy{});
    model.fit(std::tie(d.a, d.b), d.y, options(1));
    model.save_checkpoint(dir.path / "run.h5");

    auto reader = seed::build();
    const xf::io::optimizer_state file = xf::io::load_checkpoint(dir.path / "run.h5", reader);
    BOOST_TEST(file.name == "RMSprop");
    BOOST_TEST(file.iterations == 5u);
    BOOST_REQUIRE(file.slots.size() == 24u);  // rms, momentum, mg for 8 weights
    BOOST_TEST(file.slots[0].name == "dense/kernel/rms");
    BOOST_TEST(file.slots[7].name == "dense_2/bias/rms");
    BOOST_TEST(file.slots[8].name == "dense/kernel/momentum");
    BOOST_TEST(file.slots[16].name == "dense/kernel/mg");
    BOOST_TEST(file.slots[18].name == "dense_1/kernel/mg");

    // dense_1's kernel (20, 64): rows padded to the SIMD width from its layer's first float.
    const auto& params = model.layer_parameters();
    const std::size_t offset = std::size_t(params[3] - params[2]);  // input_1, input_2, dense
    const std::size_t stride = xf::padded(64);
    const auto& state = model.optimizer_states().at(0);
    const auto expect = [&](const xf::io::named_array& slot, std::size_t trainer_slot) {
        bool same = slot.value.shape() == std::vector<std::size_t>{20, 64};
        for (std::size_t r = 0; r < 20; ++r)
            for (std::size_t c = 0; c < 64; ++c)
                same = same && slot.value(r, c) ==
                                   state.slots[trainer_slot].data()[offset + r * stride + c];
        return same;
    };
    BOOST_TEST(expect(file.slots[2], 0));   // rms: the trainer's velocity
    BOOST_TEST(expect(file.slots[10], 2));  // momentum: its last slot
    BOOST_TEST(expect(file.slots[18], 1));  // mg: its average gradient
    double sum = 0;
    for (float v : file.slots[18].value)
        sum += std::abs(v);
    BOOST_TEST(sum > 0.0);  // trained, not the initial zeros
}

BOOST_AUTO_TEST_CASE(before_the_first_fit_a_checkpoint_holds_the_starting_state) {
    scratch_dir dir;
    const data_set d;
    auto model = seed::build();
    model.initialize_weights(5);
    model.compile(xf::Adagrad{.initial_accumulator_value = 0.25f}, xf::BinaryCrossentropy{});
    model.save_checkpoint(dir.path / "start.h5");
    auto reader = seed::build();
    const auto file = xf::io::load_checkpoint(dir.path / "start.h5", reader);
    BOOST_TEST(file.iterations == 0u);
    BOOST_REQUIRE(file.slots.size() == 8u);
    BOOST_TEST(file.slots[0].name == "dense/kernel/accumulator");
    BOOST_TEST(xt::all(xt::equal(file.slots[0].value, 0.25f)));

    auto resumed = seed::build();
    resumed.compile(xf::Adagrad{.initial_accumulator_value = 0.25f}, xf::BinaryCrossentropy{});
    resumed.load_checkpoint(dir.path / "start.h5");
    resumed.fit(std::tie(d.a, d.b), d.y, options(1));
    model.fit(std::tie(d.a, d.b), d.y, options(1));
    BOOST_TEST(same_bits(resumed.get_weights(), model.get_weights()));
    BOOST_TEST(same_states(resumed.optimizer_states(), model.optimizer_states()));
}

BOOST_AUTO_TEST_CASE(an_uncompiled_model_neither_saves_nor_loads_a_checkpoint) {
    scratch_dir dir;
    auto model = seed::build();
    check_throws<std::logic_error>([&] { model.save_checkpoint(dir.path / "c.h5"); },
                                   {"save_checkpoint", "c.h5", "call compile() first"});
    BOOST_TEST(dir.entries().empty());
    const auto before = model.get_weights();
    check_throws<std::logic_error>(
        [&] { model.load_checkpoint(fixture("seed_tf2_full_model.h5")); },
        {"load_checkpoint", "call compile() first"});
    BOOST_TEST(same_bits(model.get_weights(), before));
}

// tests/data/make_keras_h5_fixtures.py's full-model file: Keras' legacy Adam after 7 steps.
BOOST_AUTO_TEST_CASE(a_keras_full_model_file_resumes_its_adam_state) {
    auto model = seed::build();
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.load_checkpoint(fixture("seed_tf2_full_model.h5"));
    BOOST_TEST(same_bits(model.get_weights(), fixture_weights(model.get_weights(), 3)));
    BOOST_REQUIRE(model.optimizer_states().size() == 1u);
    const auto& state = model.optimizer_states()[0];
    BOOST_TEST(state.iterations == 7);
    // dense's kernel (10, 32) opens the buffer: row r of m at r * padded(32).
    const auto m = fixture_weights(model.get_weights(), 4)[0];
    const auto v = fixture_weights(model.get_weights(), 5)[0];
    bool same = true;
    for (std::size_t r = 0; r < 10; ++r)
        for (std::size_t c = 0; c < 32; ++c)
            same = same && state.slots[0].data()[r * xf::padded(32) + c] == m(r, c) &&
                   state.slots[1].data()[r * xf::padded(32) + c] == v(r, c);
    BOOST_TEST(same);

    // The next fit keeps that state and counts on (the fixture's v has negative values, made for
    // file tests, so the weights themselves are no use after it).
    const data_set d;
    model.fit(std::tie(d.a, d.b), d.y, options(1));
    BOOST_TEST(model.optimizer_states()[0].iterations == 7 + 5);
}

// Each file below is wrong in one way that shows only after the weights have been read; the
// model keeps its weights and its optimizer state.
BOOST_AUTO_TEST_CASE(a_bad_checkpoint_changes_neither_weights_nor_optimizer_state) {
    scratch_dir dir;
    const data_set d;
    auto source = seed::build();
    source.initialize_weights(11);
    source.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    source.fit(std::tie(d.a, d.b), d.y, options(1));
    source.save_checkpoint(dir.path / "good.h5");
    const xf::io::optimizer_state good = [&] {
        auto reader = seed::build();
        return xf::io::load_checkpoint(dir.path / "good.h5", reader);
    }();
    // Written past save_checkpoint's checks, as another program might.
    const auto write = [&](const std::string& name, const xf::io::optimizer_state& state) {
        xf::io::atomic_save(dir.path / name, [&](xf::io::hdf5_file& file) {
            xf::io::write_keras2_layers(file, "/", xf::io::detail::keras2_layers_of(source));
            xf::io::detail::write_optimizer_state(file, state);
        });
        return dir.path / name;
    };

    auto target = seed::build();
    target.initialize_weights(12);
    target.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    target.fit(std::tie(d.a, d.b), d.y, options(2));
    const auto weights = target.get_weights();
    const auto states = target.optimizer_states();
    const auto refused = [&](const fs::path& file, std::initializer_list<std::string> fragments,
                             auto... by_name) {
        check_throws<xf::io::weight_file_error>([&] { target.load_checkpoint(file, by_name...); },
                                                fragments);
        BOOST_TEST(same_bits(target.get_weights(), weights));
        BOOST_TEST(same_states(target.optimizer_states(), states));
    };

    auto shape = good;
    shape.slots[10].value = xt::zeros<float>({20, 63});  // dense_1/kernel/v
    refused(write("shape.h5", shape),
            {"load_checkpoint", "shape.h5", "optimizer slot 'dense_1/kernel/v'",
             "expected shape (20, 64) (the weight's), got (20, 63)"});

    auto missing = good;
    missing.slots.pop_back();
    refused(write("missing.h5", missing),
            {"expected 16 Adam slots (m, v for each of the model's 8 weights), the file has 15"});

    auto interleaved = good;  // m and v per weight, as Keras 3 orders them
    std::swap(interleaved.slots[1], interleaved.slots[8]);
    refused(write("interleaved.h5", interleaved),
            {"optimizer slot 1 is 'dense/kernel/v', expected the 'm' of 'dense/bias'"});
    // By name the order does not matter, but every name must be there.
    auto renamed = interleaved;
    renamed.slots[3].name = "dense_1/bias/mm";
    refused(write("renamed.h5", renamed), {"no optimizer slot 'dense_1/bias/m'"}, xf::by_name);

    auto other = good;
    other.name = "RMSprop";
    refused(write("rmsprop.h5", other),
            {"the file's optimizer is RMSprop, the model is compiled with Adam"});

    // A checkpoint of the right kind but another amsgrad setting lacks the vhat slots.
    auto amsgrad = seed::build();
    amsgrad.compile(xf::Adam{.amsgrad = true}, xf::BinaryCrossentropy{});
    amsgrad.fit(std::tie(d.a, d.b), d.y, options(1));
    const auto amsgrad_states = amsgrad.optimizer_states();
    check_throws<xf::io::weight_file_error>(
        [&] { amsgrad.load_checkpoint(dir.path / "good.h5"); },
        {"expected 24 Adam slots (m, v, vhat for each of the model's 8 weights)"});
    BOOST_TEST(same_states(amsgrad.optimizer_states(), amsgrad_states));

    // Half a file.
    const auto size = fs::file_size(dir.path / "good.h5");
    fs::copy_file(dir.path / "good.h5", dir.path / "truncated.h5");
    fs::resize_file(dir.path / "truncated.h5", size / 2);
    refused(dir.path / "truncated.h5", {"load_checkpoint", "truncated.h5"});

    refused(fixture("seed_tf2.h5"), {"no optimizer state"});

    // And the good file still loads.
    target.load_checkpoint(dir.path / "good.h5");
    BOOST_TEST(same_bits(target.get_weights(), source.get_weights()));
    BOOST_TEST(same_states(target.optimizer_states(), source.optimizer_states()));
}

// Loading by order pairs slots by position, so a model whose layers are named differently
// resumes too (as Keras' optimizer.set_weights, which ignores names).
BOOST_AUTO_TEST_CASE(by_order_a_model_with_other_layer_names_resumes) {
    scratch_dir dir;
    const data_set d;
    auto model = seed::build();
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.fit(std::tie(d.a, d.b), d.y, options(1));
    model.save_checkpoint(dir.path / "run.h5");

    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu, "left">{}(input1);
    auto x2 = xf::Dense<64, xf::relu, "right">{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    auto alpha = xf::Dense<96, xf::softmax, "weights">{}(x);
    auto out = xf::Dense<1, xf::sigmoid, "out">{}(xf::Dot<1>{}(x, alpha));
    auto renamed = xf::Model{xf::inputs(input1, input2), out};
    renamed.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    renamed.load_checkpoint(dir.path / "run.h5");
    BOOST_TEST(same_bits(renamed.get_weights(), model.get_weights()));
    BOOST_TEST(same_states(renamed.optimizer_states(), model.optimizer_states()));
}
