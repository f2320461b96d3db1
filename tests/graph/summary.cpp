// summary() text: the Sequential layout, Keras' cell wrapping (including its TF <= 2.12
// off-by-one on long first-column cells), shared layers, thousands separators.
#define BOOST_TEST_MODULE graph_summary
#include <boost/test/unit_test.hpp>
#include <sstream>
#include <xfuse/xfuse.hpp>

namespace xf = xfuse;

namespace {
std::string print(const xf::summary_table& table) {
    std::ostringstream os;
    xf::print_summary(os, table);
    return os.str();
}
}  // namespace

BOOST_AUTO_TEST_CASE(sequential_layout_has_three_columns_and_no_input_row) {
    xf::clear_session();
    xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>> model;
    std::ostringstream os;
    model.summary(os);
    const std::string expected =
        "Model: \"sequential\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #   \n"
        "=================================================================\n"
        " dense (Dense)               (None, 16)                144       \n"
        "                                                                 \n"
        " dense_1 (Dense)             (None, 1)                 17        \n"
        "                                                                 \n"
        "=================================================================\n"
        "Total params: 161\n"
        "Trainable params: 161\n"
        "Non-trainable params: 0\n"
        "_________________________________________________________________\n";
    BOOST_TEST(os.str() == expected);
}

BOOST_AUTO_TEST_CASE(a_functional_chain_is_drawn_like_a_sequential_model_with_its_input) {
    xf::clear_session();
    auto in = xf::Input<4, 6>{};
    auto model = xf::Model{xf::inputs(in), xf::Dense<3, xf::relu>{}(in)};
    std::ostringstream os;
    model.summary(os);
    BOOST_TEST(
        os.str().find(" input_1 (InputLayer)        [(None, 4, 6)]            0         \n") !=
        std::string::npos);
    BOOST_TEST(
        os.str().find(" dense (Dense)               (None, 4, 3)              21        \n") !=
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(long_cells_wrap_after_separators_and_at_the_column_width) {
    xf::summary_table table{"model", false, {}, 1234567, 0};
    table.rows.push_back({"a_rather_long_layer_name_here (Dense)",
                          "(None, 96)",
                          1234567,
                          {"first[0][0]", "second_input_with_a_long_name[0][0]", "x[2][0]"}});
    const std::string text = print(table);
    // print_row cuts the first column at 32 - 2 = 30 characters (here ending in the space before
    // "(Dense)") after a leading space, so a full cell pushes the next column one place right
    // (tf.keras 2.7-2.12 do the same); the third column is back at its stop.
    const std::string expected_rows =
        " a_rather_long_layer_name_here   (None, 96)          1234567     ['first[0][0]',          "
        "        \n"
        " (Dense)                                                          "
        "'second_input_with_a_long_name[0\n"
        "                                                                 ][0]',                   "
        "        \n"
        "                                                                  'x[2][0]']              "
        "        \n"
        "                                                                                          "
        "        \n";
    BOOST_TEST(text.find(expected_rows) != std::string::npos, text);
    BOOST_TEST(text.find("Total params: 1,234,567\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_layer_with_nodes_of_different_shapes_shows_multiple) {
    auto short_in = xf::Input<3>{};
    auto long_in = xf::Input<4, 3>{};
    auto shared = xf::Dense<2>{};
    auto a = shared(short_in);
    auto b = shared(long_in);
    auto model = xf::Model{xf::inputs(short_in, long_in), a, b};
    std::ostringstream os;
    model.summary(os);
    BOOST_TEST(os.str().find(" dense (Dense)                  multiple             8           "
                             "['input_1[0][0]',") != std::string::npos,
               os.str());
}
