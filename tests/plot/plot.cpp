// Pictures: the seed model's DOT text (exact, tests/data/seed_model.dot), its PNG and SVG
// renderings, and attention heatmaps whose pixels follow the weights. Keras' model_to_dot
// (tf_keras/utils/vis_utils.py) is the layout the DOT text follows: "name|Class" records, then
// "{...}|{input:|output:}|{{in}|{out}}" with show_shapes, an edge per inbound layer.
#define BOOST_TEST_MODULE plot
#include <boost/test/unit_test.hpp>

#include <cairo/cairo.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <xfuse/plot.hpp>
#include <xtensor/xtensor.hpp>

#include "support/seed_model.hpp"

namespace xf = xfuse;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A fresh directory per test, under the build tree's working directory.
fs::path scratch_dir(const std::string& name) {
    const fs::path dir = fs::current_path() / ("plot_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

using surface_ptr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

surface_ptr decode_png(const fs::path& path) {
    surface_ptr surface(cairo_image_surface_create_from_png(path.c_str()), &cairo_surface_destroy);
    BOOST_REQUIRE_MESSAGE(cairo_surface_status(surface.get()) == CAIRO_STATUS_SUCCESS,
                          "cairo cannot decode " << path);
    return surface;
}

// Relative luminance (Rec. 709 weights on the stored sRGB values) of a pixel.
double luminance(cairo_surface_t* surface, int x, int y) {
    cairo_surface_flush(surface);
    const unsigned char* row =
        cairo_image_surface_get_data(surface) + y * cairo_image_surface_get_stride(surface);
    const std::uint32_t pixel = reinterpret_cast<const std::uint32_t*>(row)[x];
    const double r = (pixel >> 16) & 0xFF, g = (pixel >> 8) & 0xFF, b = pixel & 0xFF;
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The SVG parses as XML (Python's xml.etree) and its root is an <svg> element.
bool parses_as_svg(const fs::path& path) {
    const std::string command = std::string(XFUSE_PYTHON) +
                                " -c \"import sys, xml.etree.ElementTree as E; "
                                "sys.exit(0 if E.parse(sys.argv[1]).getroot().tag.endswith('svg') "
                                "else 1)\" '" +
                                path.string() + "'";
    return std::system(command.c_str()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(seed_model_dot_text_is_keras_layout) {
    const auto model = seed::build();
    const std::string expected = read_file(fs::path(XFUSE_TEST_DATA) / "seed_model.dot");
    BOOST_TEST(xf::to_dot(model, {.show_shapes = true}) == expected);
}

BOOST_AUTO_TEST_CASE(dot_options) {
    const auto model = seed::build();
    const std::string plain = xf::to_dot(model);
    BOOST_TEST(plain.find("dense_2 [label=\"dense_2|Dense\"];") != std::string::npos);
    BOOST_TEST(plain.find("input:") == std::string::npos);
    const std::string no_names = xf::to_dot(model, {.show_layer_names = false});
    BOOST_TEST(no_names.find("attention [label=\"Dense\"];") != std::string::npos);
    const std::string activations = xf::to_dot(model, {.show_layer_activations = true});
    BOOST_TEST(activations.find("attention [label=\"attention|{Dense|softmax}\"];") !=
               std::string::npos);
    BOOST_TEST(xf::to_dot(model, {.rankdir = "LR"}).find("rankdir=LR;") != std::string::npos);
    BOOST_CHECK_THROW(xf::to_dot(model, {.rankdir = "sideways"}), std::invalid_argument);
    BOOST_CHECK_THROW(xf::to_dot(model, {.dpi = 0}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(shared_layer_and_sequential) {
    // A layer applied to two inputs of one shape: one record, an edge from each input.
    auto a = xf::Input<4>{};
    auto b = xf::Input<4>{};
    auto shared = xf::Dense<3, xf::relu, "shared">{};
    auto sum = xf::Add{}(shared(a), shared(b));
    const auto model = xf::Model{xf::inputs(a, b), sum};
    const std::string dot = xf::to_dot(model, {.show_shapes = true});
    BOOST_TEST(dot.find("shared [label=\"{shared|Dense}|{input:|output:}|{{(None, 4)}|{(None, "
                        "3)}}\"];") != std::string::npos);
    BOOST_TEST(dot.find("input_1 -> shared;\ninput_2 -> shared;\nshared -> add;\n") !=
               std::string::npos);

    const xf::Sequential<xf::Input<3>, xf::Dense<2, xf::tanh>, xf::Dense<1>> sequential;
    const std::string chain = xf::to_dot(sequential);
    BOOST_TEST(chain.find("dense -> dense_1;") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plot_model_png_and_svg) {
    const auto model = seed::build();
    const fs::path dir = scratch_dir("model");
    xf::plot_model(model, dir / "model.svg", {.show_shapes = true});
    xf::plot_model(model, dir / "model.png", {.show_shapes = true});
    xf::plot_model(model, dir / "model", {.show_shapes = true});  // no extension: PNG
    BOOST_TEST(parses_as_svg(dir / "model.svg"));
    const std::string svg = read_file(dir / "model.svg");
    BOOST_TEST(svg.find("attention") != std::string::npos);
    BOOST_TEST(svg.find("[(None, 10)]") != std::string::npos);

    // Graphviz lays out in points (the SVG's viewBox) and draws the PNG at dpi pixels per inch:
    // 96 / 72 pixels per point.
    const std::size_t at = svg.find("viewBox=\"");
    BOOST_REQUIRE(at != std::string::npos);
    std::istringstream view_box(svg.substr(at + 9));
    double x0 = 0, y0 = 0, width = 0, height = 0;
    view_box >> x0 >> y0 >> width >> height;
    const surface_ptr png = decode_png(dir / "model.png");
    BOOST_TEST(std::abs(cairo_image_surface_get_width(png.get()) - width * 96 / 72) <= 2.0);
    BOOST_TEST(std::abs(cairo_image_surface_get_height(png.get()) - height * 96 / 72) <= 2.0);
    BOOST_TEST(read_file(dir / "model") == read_file(dir / "model.png"));
}

BOOST_AUTO_TEST_CASE(plot_model_failure_leaves_the_file) {
    const auto model = seed::build();
    const fs::path dir = scratch_dir("model_failure");
    std::ofstream(dir / "model.nosuchformat") << "before";
    BOOST_CHECK_THROW(xf::plot_model(model, dir / "model.nosuchformat"), std::invalid_argument);
    BOOST_TEST(read_file(dir / "model.nosuchformat") == "before");
    BOOST_CHECK_THROW(xf::plot_model(model, dir / "missing" / "model.png"), std::system_error);
    BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_CASE(heatmap_pixels_follow_the_weights) {
    xt::xtensor<float, 2> weights = xt::zeros<float>({5, 7});
    for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 7; ++c)
            weights(r, c) = static_cast<float>(std::sin(1.0 + r * 7 + c) * 0.5 + 0.5);
    weights(3, 4) = 2.0f;   // the largest
    weights(1, 2) = -1.0f;  // the smallest
    weights(0, 6) = std::numeric_limits<float>::quiet_NaN();
    const xf::attention_plot_options options{
        .row_labels = {"a", "b", "c", "d", "e"},
        .column_labels = {"f0", "f1", "f2", "f3", "f4", "f5", "f6"},
        .title = "weights",
        .cell_size = 14};
    const fs::path dir = scratch_dir("heatmap");
    xf::plot_attention(weights, dir / "weights.png", options);

    std::vector<double> values(weights.begin(), weights.end());
    const xf::io::heatmap_geometry g = xf::io::heatmap_layout(5, 7, values, options);
    BOOST_TEST(g.low == -1.0);
    BOOST_TEST(g.high == 2.0);
    const surface_ptr png = decode_png(dir / "weights.png");
    BOOST_TEST(cairo_image_surface_get_width(png.get()) == g.width);
    BOOST_TEST(cairo_image_surface_get_height(png.get()) == g.height);
    const auto centre = [&](std::size_t r, std::size_t c) {
        return luminance(png.get(), g.grid_x + static_cast<int>(c) * g.cell + g.cell / 2,
                         g.grid_y + static_cast<int>(r) * g.cell + g.cell / 2);
    };
    // Viridis' lightness rises with the value: the cells sort as the weights do.
    for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 7; ++c) {
            if (std::isnan(weights(r, c)))
                continue;
            BOOST_TEST_CONTEXT("cell " << r << ", " << c) {
                BOOST_TEST(centre(r, c) <= centre(3, 4));
                BOOST_TEST(centre(r, c) >= centre(1, 2));
                if (weights(r, c) < weights(0, 0))
                    BOOST_TEST(centre(r, c) <= centre(0, 0));
            }
        }
    const xf::io::rgb top = xf::io::viridis_table.back();
    BOOST_TEST(std::abs(centre(3, 4) -
                        (0.2126 * top.red + 0.7152 * top.green + 0.0722 * top.blue) * 255) <= 1.5);
    BOOST_TEST(std::abs(centre(0, 6) - 0.8 * 255) <= 1.0);  // NaN: light grey
    // The colour bar: brightest at the top, darkest at the bottom.
    const int bar_centre = g.bar_x + g.bar_width / 2;
    BOOST_TEST(luminance(png.get(), bar_centre, g.grid_y + 1) >
               luminance(png.get(), bar_centre, g.grid_y + 5 * g.cell - 2));

    xf::plot_attention(weights, dir / "weights.svg", options);
    BOOST_TEST(parses_as_svg(dir / "weights.svg"));
    const std::string svg = read_file(dir / "weights.svg");
    BOOST_TEST(svg.find("width=\"" + std::to_string(g.width)) != std::string::npos);
    BOOST_TEST(svg.find("height=\"" + std::to_string(g.height)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(heatmap_bad_input) {
    const fs::path dir = scratch_dir("heatmap_bad");
    const xt::xtensor<float, 2> weights = xt::ones<float>({2, 3});
    std::ofstream(dir / "w.png") << "before";
    BOOST_CHECK_THROW(xf::plot_attention(weights, dir / "w.png", {.row_labels = {"only one"}}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::plot_attention(weights, dir / "w.png", {.column_labels = {"a", "b"}}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::plot_attention(weights, dir / "w.png", {.vmin = 1.0, .vmax = 0.0}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(xf::plot_attention(weights, dir / "w.jpg"), std::invalid_argument);
    BOOST_CHECK_THROW(xf::plot_attention(xt::xtensor<float, 2>({0, 3}), dir / "w.png"),
                      std::invalid_argument);
    BOOST_TEST(read_file(dir / "w.png") == "before");
    BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
}
