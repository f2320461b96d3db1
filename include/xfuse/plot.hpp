// Pictures: the model's graph as Keras' plot_model draws it, and heatmaps of attention weights.
// The part of xfuse that needs Graphviz and cairo: include this header and link the CMake target
// xfuse::plot (docs/seed_walkthrough.md shows both pictures). xf::to_dot needs neither and is
// in <xfuse/xfuse.hpp>.
//
//   xf::plot_model(model, "model.svg", {.show_shapes = true});
//   xf::plot_attention(attention.predict(a, b), "attention.png", {.title = "attention"});
#pragma once

#ifndef XFUSE_HAS_PLOT
#error \
    "xfuse: <xfuse/plot.hpp> needs Graphviz and cairo: link the CMake target xfuse::plot (find_package(xfuse COMPONENTS plot))"
#endif

#include <cstddef>
#include <filesystem>
#include <vector>

// First: core/config.hpp must see xsimd before xtensor includes it.
#include "xfuse.hpp"
// (the rest)
#include "io/graphviz_render.hpp"
#include "io/heatmap.hpp"
#include "io/model_dot.hpp"

namespace xfuse {

// Keras' plot_model: the picture of to_dot(model, options) in the format of the file's extension
// (png without one; svg, pdf and the other formats Graphviz renders). The file is written whole
// or not at all.
template <class M>
requires requires {
    typename M::graph_type;
}
void plot_model(const M& model, const std::filesystem::path& path,
                const plot_options& options = {}) {
    io::render_dot(to_dot(model, options), path);
}

// A heatmap of a 2-D tensor of weights (rows: samples or query positions; columns: the features
// or keys they attend to) to a .png or .svg file, in viridis: the brighter, the larger.
template <class E>
void plot_attention(const xt::xexpression<E>& weights, const std::filesystem::path& path,
                    const attention_plot_options& options = {}) {
    const auto& w = weights.derived_cast();
    if (w.dimension() != 2)
        throw std::invalid_argument("xfuse::plot_attention: the weights must be 2-D, got " +
                                    std::to_string(w.dimension()) + " dimensions");
    const std::size_t rows = w.shape()[0], cols = w.shape()[1];
    std::vector<double> values;
    values.reserve(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            values.push_back(static_cast<double>(w(r, c)));
    io::write_heatmap(values, rows, cols, path, options);
}

}  // namespace xfuse
