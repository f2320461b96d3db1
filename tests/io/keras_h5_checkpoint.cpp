// Checkpoints: weights plus a hand-made optimizer state round-trip bit for bit; Keras'
// full-model file reads as a checkpoint; a bad optimizer section or a state that does not fit
// the model is refused with the model unchanged; a failed save keeps the old checkpoint.
#define BOOST_TEST_MODULE io_keras_h5_checkpoint
#include <boost/test/unit_test.hpp>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

// Adam's state as Keras lists it: every m, then every v, named "<layer>/<weight>/m".
xf::io::optimizer_state adam_state(int m_variant, int v_variant, std::uint64_t iterations) {
    auto model = seed::build();
    const auto shapes = model.get_weights();
    const std::vector<std::string> weights{"dense/kernel",   "dense/bias",       "dense_1/kernel",
                                           "dense_1/bias",   "attention/kernel", "attention/bias",
                                           "dense_2/kernel", "dense_2/bias"};
    xf::io::optimizer_state state{"Adam", iterations, {}};
    const auto m = fixture_weights(shapes, m_variant);
    const auto v = fixture_weights(shapes, v_variant);
    for (std::size_t i = 0; i < weights.size(); ++i)
        state.slots.push_back({weights[i] + "/m", m[i]});
    for (std::size_t i = 0; i < weights.size(); ++i)
        state.slots.push_back({weights[i] + "/v", v[i]});
    return state;
}

bool same_state(const xf::io::optimizer_state& a, const xf::io::optimizer_state& b) {
    if (a.name != b.name || a.iterations != b.iterations || a.slots.size() != b.slots.size())
        return false;
    for (std::size_t i = 0; i < a.slots.size(); ++i)
        if (a.slots[i].name != b.slots[i].name ||
            !same_bits({a.slots[i].value}, {b.slots[i].value}))
            return false;
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(weights_and_state_round_trip_bit_for_bit) {
    scratch_dir dir;
    auto model = seed::build();
    model.set_weights(fixture_weights(model.get_weights(), 11));
    const auto state = adam_state(12, 13, 42);
    xf::io::save_checkpoint(dir.path / "c.h5", model, state);

    auto resumed = seed::build();
    const auto loaded = xf::io::load_checkpoint(dir.path / "c.h5", resumed);
    BOOST_TEST(same_bits(resumed.get_weights(), model.get_weights()));
    BOOST_TEST(same_state(loaded, state));
    BOOST_TEST(loaded.slots[8].name == "dense/kernel/v");

    // A checkpoint is also a weights file (for xfuse and for Keras' load_weights).
    auto weights_only = seed::build();
    weights_only.load_weights(dir.path / "c.h5");
    BOOST_TEST(same_bits(weights_only.get_weights(), model.get_weights()));

    const xf::io::detail::hdf5_session session;
    const auto file = xf::io::hdf5_file::open_read_only(dir.path / "c.h5");
    const auto names = file.read_strings("/optimizer_weights", "weight_names");
    BOOST_TEST(names.size() == 17u);
    BOOST_TEST(names[0] == "Adam/iter:0");
    BOOST_TEST(names[1] == "Adam/dense/kernel/m:0");
    BOOST_TEST(file.read_int64("/optimizer_weights/Adam/iter:0") == 42);
    BOOST_TEST(file.dataset("/optimizer_weights/Adam/iter:0").dtype == "int64");
    BOOST_TEST(file.dataset("/optimizer_weights/Adam/attention/kernel/v:0").shape ==
               (std::vector<std::size_t>{96, 96}));
}

BOOST_AUTO_TEST_CASE(reads_a_keras_full_model_file_as_a_checkpoint) {
    auto model = seed::build();
    const auto state = xf::io::load_checkpoint(fixture("seed_tf2_full_model.h5"), model);
    BOOST_TEST(same_bits(model.get_weights(), fixture_weights(model.get_weights(), 3)));
    BOOST_TEST(same_state(state, adam_state(4, 5, 7)));
}

BOOST_AUTO_TEST_CASE(a_weights_file_is_not_a_checkpoint) {
    auto model = seed::build();
    const auto before = model.get_weights();
    check_throws<xf::io::weight_file_error>(
        [&] { xf::io::load_checkpoint(fixture("seed_tf2.h5"), model); },
        {"load_checkpoint", "seed_tf2.h5", "no optimizer state"});
    BOOST_TEST(same_bits(model.get_weights(), before));
}

BOOST_AUTO_TEST_CASE(a_slot_of_the_wrong_shape_is_refused_on_save_and_on_load) {
    scratch_dir dir;
    auto model = seed::build();
    auto state = adam_state(12, 13, 1);
    state.slots[2].value = xt::zeros<float>({20, 63});  // dense_1/kernel/m
    check_throws<xf::io::weight_file_error>(
        [&] { xf::io::save_checkpoint(dir.path / "c.h5", model, state); },
        {"save_checkpoint", "c.h5", "slot 'dense_1/kernel/m'", "expected shape (20, 64)",
         "got (20, 63)"});
    BOOST_TEST(dir.entries().empty());

    // Written past the check, as another program might: the load refuses it.
    xf::io::atomic_save(dir.path / "c.h5", [&](xf::io::hdf5_file& file) {
        xf::io::write_keras2_layers(file, "/", xf::io::detail::keras2_layers_of(model));
        xf::io::detail::write_optimizer_state(file, state);
    });
    auto other = seed::build();
    other.set_weights(fixture_weights(other.get_weights(), 5));
    const auto before = other.get_weights();
    check_throws<xf::io::weight_file_error>(
        [&] { xf::io::load_checkpoint(dir.path / "c.h5", other); },
        {"load_checkpoint", "slot 'dense_1/kernel/m'", "expected shape (20, 64)"});
    BOOST_TEST(same_bits(other.get_weights(), before));
}

BOOST_AUTO_TEST_CASE(a_bad_iteration_count_is_refused) {
    scratch_dir dir;
    auto model = seed::build();
    xf::io::atomic_save(dir.path / "c.h5", [&](xf::io::hdf5_file& file) {
        xf::io::write_keras2_layers(file, "/", xf::io::detail::keras2_layers_of(model));
        file.create_group("/optimizer_weights");
        file.write_strings("/optimizer_weights", "weight_names", {"Adam/iter:0"});
        const float one = 1;
        file.write_floats("/optimizer_weights/Adam/iter:0", {}, &one);
    });
    check_throws<xf::io::weight_file_error>(
        [&] { xf::io::load_checkpoint(dir.path / "c.h5", model); },
        {"'/optimizer_weights/Adam/iter:0': expected an integer scalar, found float32"});
}

BOOST_AUTO_TEST_CASE(a_failed_save_keeps_the_previous_checkpoint) {
    scratch_dir dir;
    auto model = seed::build();
    model.set_weights(fixture_weights(model.get_weights(), 11));
    xf::io::save_checkpoint(dir.path / "c.h5", model, adam_state(12, 13, 42));
    xf::io::detail::before_dataset_write() = [](const fs::path&, std::string_view object) {
        if (object.find("optimizer_weights") != std::string_view::npos)
            throw std::runtime_error("disk full");
    };
    auto later = seed::build();
    BOOST_CHECK_THROW(xf::io::save_checkpoint(dir.path / "c.h5", later, adam_state(1, 2, 43)),
                      std::runtime_error);
    xf::io::detail::before_dataset_write() = nullptr;
    BOOST_TEST(dir.entries() == std::vector<std::string>{"c.h5"});
    auto resumed = seed::build();
    const auto state = xf::io::load_checkpoint(dir.path / "c.h5", resumed);
    BOOST_TEST(state.iterations == 42u);
    BOOST_TEST(same_bits(resumed.get_weights(), model.get_weights()));
}
