// save_weights / load_weights: Keras files written by tests/data/make_keras_h5_fixtures.py
// (tf.keras 2.x with h5py 2 and 3 string styles, full-model files, Keras 3), the layout xfuse
// writes, round trips bit for bit, by-order and by-name matching, and every kind of bad file
// raising an error that names the file, the layer and what was expected, the model unchanged.
#define BOOST_TEST_MODULE io_keras_h5_weights
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

using sequential_type = xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>>;

std::vector<xt::xarray<float>> expected(const auto& model, int variant) {
    return fixture_weights(model.get_weights(), variant);
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_tf2_files_bit_for_bit) {
    auto model = seed::build();
    xf::io::load_weights(fixture("seed_tf2.h5"), model);
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 1)));
}

BOOST_AUTO_TEST_CASE(reads_fixed_length_strings_and_chunked_weight_names) {
    auto model = seed::build();
    xf::io::load_weights(fixture("seed_tf2_fixed_strings.h5"), model);
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 2)));
}

BOOST_AUTO_TEST_CASE(reads_the_model_weights_group_of_a_full_model_file) {
    auto model = seed::build();
    model.load_weights(fixture("seed_tf2_full_model.h5"));
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 3)));
}

BOOST_AUTO_TEST_CASE(reads_keras3_weights_files_by_class_path) {
    auto model = seed::build();
    model.load_weights(fixture("seed_keras3.weights.h5"));
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 6)));
}

BOOST_AUTO_TEST_CASE(reads_a_sequential_file_without_input_layer) {
    sequential_type model;
    model.load_weights(fixture("sequential_tf2.h5"));
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 8)));
}

BOOST_AUTO_TEST_CASE(by_order_ignores_names_and_by_name_matches_them) {
    auto in = xf::Input<8>{};
    auto model = xf::Model{xf::inputs(in),
                           xf::Dense<1, xf::linear, "b">{}(xf::Dense<16, xf::tanh, "a">{}(in))};
    model.load_weights(fixture("sequential_tf2.h5"));  // Keras' default: order, not names
    BOOST_TEST(same_bits(model.get_weights(), expected(model, 8)));
    const auto before = model.get_weights();
    check_throws<xf::io::weight_file_error>(
        [&] { model.load_weights(fixture("sequential_tf2.h5"), xf::by_name); },
        {"load_weights", "sequential_tf2.h5", "layer 'a'", "kernel (8, 16)", "is not in the file",
         "(dense, dense_1)"});
    BOOST_TEST(same_bits(model.get_weights(), before));

    sequential_type named;
    named.load_weights(fixture("sequential_tf2.h5"), xf::by_name);
    BOOST_TEST(same_bits(named.get_weights(), expected(named, 8)));
}

BOOST_AUTO_TEST_CASE(round_trip_is_bit_exact_and_keras_can_read_it) {
    scratch_dir dir;
    auto model = seed::build();
    model.set_weights(fixture_weights(model.get_weights(), 9));
    model.save_weights(dir.path / "w.h5");
    // The file Keras' side checks (CTest io.keras_h5_python_reads_xfuse), next to this program.
    const fs::path program = boost::unit_test::framework::master_test_suite().argv[0];
    xf::io::save_weights(program.parent_path() / "xfuse_written_seed.h5", model);

    auto other = seed::build();
    BOOST_TEST(!same_bits(other.get_weights(), model.get_weights()));
    other.load_weights(dir.path / "w.h5");
    BOOST_TEST(same_bits(other.get_weights(), model.get_weights()));
    // Saving over an existing file replaces it.
    other.set_weights(fixture_weights(model.get_weights(), 1));
    other.save_weights(dir.path / "w.h5");
    model.load_weights(dir.path / "w.h5", xf::by_name);
    BOOST_TEST(same_bits(model.get_weights(), fixture_weights(model.get_weights(), 1)));
    BOOST_TEST(dir.entries() == std::vector<std::string>{"w.h5"});
}

BOOST_AUTO_TEST_CASE(writes_the_tf2_layout) {
    scratch_dir dir;
    auto model = seed::build();
    model.save_weights(dir.path / "w.h5");
    const xf::io::detail::hdf5_session session;
    const auto file = xf::io::hdf5_file::open_read_only(dir.path / "w.h5");
    BOOST_TEST(file.read_strings("/", "layer_names") == model.layer_names());
    BOOST_TEST(file.read_strings("/", "backend") == std::vector<std::string>{"tensorflow"});
    BOOST_TEST(file.has_attribute("/", "keras_version"));
    BOOST_TEST(file.read_strings("/dense", "weight_names") ==
               (std::vector<std::string>{"dense/kernel:0", "dense/bias:0"}));
    BOOST_TEST(file.read_strings("/dot", "weight_names").empty());
    BOOST_TEST(file.is_group("/top_level_model_weights"));
    const auto kernel = file.dataset("/attention/attention/kernel:0");
    BOOST_TEST(kernel.dtype == "float32");
    BOOST_TEST(kernel.shape == (std::vector<std::size_t>{96, 96}));
    BOOST_TEST(file.dataset("/dense_2/dense_2/bias:0").shape == std::vector<std::size_t>{1});
    BOOST_TEST(file.members("/") ==
               (std::vector<std::string>{"attention", "concatenate", "dense", "dense_1", "dense_2",
                                         "dot", "input_1", "input_2", "top_level_model_weights"}));
}

// ---- bad files: each names the file, the layer and what was expected; the model is unchanged

namespace {

template <class Model>
void check_rejected(Model& model, const fs::path& file, std::initializer_list<std::string> what,
                    bool by_name = false) {
    const auto before = model.get_weights();
    std::vector<std::string> fragments{"load_weights", file.filename().string()};
    fragments.insert(fragments.end(), what.begin(), what.end());
    try {
        if (by_name)
            model.load_weights(file, xf::by_name);
        else
            model.load_weights(file);
        BOOST_ERROR("loading " << file << " did not throw");
    } catch (const xf::io::weight_file_error& error) {
        BOOST_TEST_MESSAGE(error.what());
        BOOST_TEST(error.file() == file);
        for (const std::string& fragment : fragments)
            BOOST_TEST(std::string(error.what()).find(fragment) != std::string::npos,
                       "lacks '" << fragment << "': " << error.what());
    }
    BOOST_TEST(same_bits(model.get_weights(), before));
}

}  // namespace

BOOST_AUTO_TEST_CASE(missing_not_hdf5_and_truncated_files) {
    auto model = seed::build();
    check_rejected(model, fixture("no_such_file.h5"), {"no such file"});
    check_rejected(model, fixture("bad_not_hdf5.h5"), {"not a readable HDF5 file"});
    scratch_dir dir;
    const fs::path truncated = dir.path / "truncated.h5";
    fs::copy_file(fixture("seed_tf2.h5"), truncated);
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
    check_rejected(model, truncated, {"HDF5"});
}

BOOST_AUTO_TEST_CASE(a_missing_layer) {
    auto model = seed::build();
    check_rejected(model, fixture("bad_missing_layer.h5"),
                   {"the model has 4 layers with weights (dense, dense_1, attention, dense_2)",
                    "the file has 3 (dense, attention, dense_2)"});
    check_rejected(model, fixture("bad_missing_layer.h5"),
                   {"layer 'dense_1' [kernel (20, 64), bias (64,)] is not in the file"}, true);
    check_rejected(
        model, fixture("bad_keras3_missing_layer.weights.h5"),
        {"layer 'dense_1' (file: 'layers/dense_1')", "expected 2 weights", "the file has 0"});
    sequential_type other;
    check_rejected(other, fixture("seed_tf2.h5"), {"the model has 2 layers with weights"});
}

BOOST_AUTO_TEST_CASE(a_weight_of_the_wrong_shape_or_dtype) {
    auto model = seed::build();
    check_rejected(model, fixture("bad_wrong_shape.h5"),
                   {"layer 'dense'", "weight 'kernel'", "expected shape (10, 32)",
                    "'dense/kernel:0' is (10, 31)"});
    check_rejected(
        model, fixture("bad_float64.h5"),
        {"layer 'dense'", "/dense/dense/kernel:0", "(10, 32) is float64", "expected float32"});
}

BOOST_AUTO_TEST_CASE(too_many_or_too_few_weights) {
    auto model = seed::build();
    check_rejected(model, fixture("bad_too_many_weights.h5"),
                   {"layer 'dense'", "expected 2 weights [kernel (10, 32), bias (32,)]",
                    "the file has 3", "dense/extra:0 (32,)"});
    check_rejected(model, fixture("bad_too_few_weights.h5"),
                   {"layer 'dense'", "expected 2 weights", "the file has 1 [dense/kernel:0"});
}

BOOST_AUTO_TEST_CASE(by_name_is_refused_for_keras3_files) {
    auto model = seed::build();
    check_rejected(model, fixture("seed_keras3.weights.h5"), {"xf::by_name needs"}, true);
}
