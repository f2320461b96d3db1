// A heatmap of a matrix of weights with cairo: one square cell per value coloured by viridis
// (io/viridis.hpp) between the smallest and the largest finite value (or a range given), row
// and column labels, an optional title and a colour bar with the range's ends and middle.
// Rendered in memory, then written atomically (PNG or SVG by the file's extension), so a failed
// call leaves no file. Needs the CMake target xfuse::plot.
#pragma once

#include <cairo/cairo-svg.h>
#include <cairo/cairo.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "atomic_file.hpp"
#include "viridis.hpp"

namespace xfuse {

struct attention_plot_options {
    std::vector<std::string> row_labels{};     // one per row, or none
    std::vector<std::string> column_labels{};  // one per column, or none
    std::string title{};
    std::optional<double> vmin{};  // the colour scale's ends; the data's finite range if unset
    std::optional<double> vmax{};
    int cell_size = 12;  // pixels (points in SVG) per cell side
};

namespace io {

// Where everything of a heatmap lies, in pixels: the cells' grid starts at (grid_x, grid_y),
// cell (r, c) covers [grid_x + c cell, grid_x + (c + 1) cell) x [grid_y + r cell, ...).
struct heatmap_geometry {
    int width = 0, height = 0;
    int grid_x = 0, grid_y = 0, cell = 0;
    int bar_x = 0, bar_width = 0;  // the colour bar spans the grid's height
    double low = 0, high = 1;      // the colour scale
};

namespace detail {

inline constexpr int heatmap_margin = 8;
inline constexpr int heatmap_font_size = 10;
inline constexpr rgb heatmap_missing{0.8, 0.8, 0.8};  // NaN cells: light grey, apart from the map

inline void check_heatmap(std::size_t rows, std::size_t cols,
                          const attention_plot_options& options) {
    auto fail = [](const std::string& what) {
        throw std::invalid_argument("xfuse::plot_attention: " + what);
    };
    if (rows == 0 || cols == 0)
        fail("the weights are empty (" + std::to_string(rows) + " x " + std::to_string(cols) + ")");
    if (!options.row_labels.empty() && options.row_labels.size() != rows)
        fail(std::to_string(options.row_labels.size()) + " row labels for " + std::to_string(rows) +
             " rows");
    if (!options.column_labels.empty() && options.column_labels.size() != cols)
        fail(std::to_string(options.column_labels.size()) + " column labels for " +
             std::to_string(cols) + " columns");
    if (options.cell_size < 1 || options.cell_size > 1000)
        fail("cell_size must lie in [1, 1000], got " + std::to_string(options.cell_size));
    if (options.vmin && options.vmax && !(*options.vmin < *options.vmax))
        fail("vmin (" + std::to_string(*options.vmin) + ") must be below vmax (" +
             std::to_string(*options.vmax) + ")");
}

// The colour scale: the given ends, else the finite values' range (one value v: [v, v + 1]).
inline std::pair<double, double> heatmap_range(const std::vector<double>& values,
                                               const attention_plot_options& options) {
    double low = INFINITY, high = -INFINITY;
    for (double v : values)
        if (std::isfinite(v)) {
            low = std::min(low, v);
            high = std::max(high, v);
        }
    if (!(low <= high))
        low = 0, high = 1;
    low = options.vmin.value_or(low);
    high = options.vmax.value_or(high);
    if (!(low < high))
        high = low + 1;
    return {low, high};
}

inline double text_width(cairo_t* cr, const std::string& text) {
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text.c_str(), &extents);
    return extents.x_advance;
}

inline void set_font(cairo_t* cr) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, heatmap_font_size);
}

// Every k-th column label, k the smallest that keeps rotated labels from overlapping.
inline std::size_t column_label_step(int cell) {
    return static_cast<std::size_t>(std::max(1, (heatmap_font_size + 2 + cell - 1) / cell));
}

inline std::string tick_text(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", v);
    return text;
}

}  // namespace detail

inline heatmap_geometry heatmap_layout(std::size_t rows, std::size_t cols,
                                       const std::vector<double>& values,
                                       const attention_plot_options& options) {
    detail::check_heatmap(rows, cols, options);
    // Text is measured on a scratch surface with the font the picture uses.
    const std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> scratch(
        cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1), &cairo_surface_destroy);
    const std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(scratch.get()),
                                                                &cairo_destroy);
    detail::set_font(cr.get());
    double row_label_width = 0, column_label_height = 0;
    for (const std::string& label : options.row_labels)
        row_label_width = std::max(row_label_width, detail::text_width(cr.get(), label));
    for (const std::string& label : options.column_labels)
        column_label_height = std::max(column_label_height, detail::text_width(cr.get(), label));

    heatmap_geometry g;
    std::tie(g.low, g.high) = detail::heatmap_range(values, options);
    double tick_width = 0;
    for (double v : {g.low, (g.low + g.high) / 2, g.high})
        tick_width = std::max(tick_width, detail::text_width(cr.get(), detail::tick_text(v)));
    constexpr int m = detail::heatmap_margin;
    g.cell = options.cell_size;
    g.grid_x =
        m + static_cast<int>(std::ceil(row_label_width)) + (options.row_labels.empty() ? 0 : m);
    g.grid_y = m + (options.title.empty() ? 0 : detail::heatmap_font_size + m);
    const int grid_width = g.cell * static_cast<int>(cols);
    const int grid_height = g.cell * static_cast<int>(rows);
    g.bar_x = g.grid_x + grid_width + 2 * m;
    g.bar_width = std::max(10, g.cell);
    g.width = g.bar_x + g.bar_width + 4 + static_cast<int>(std::ceil(tick_width)) + m;
    g.height = std::max(g.grid_y + grid_height +
                            (options.column_labels.empty()
                                 ? 0
                                 : m / 2 + static_cast<int>(std::ceil(column_label_height))) +
                            m,
                        g.grid_y + grid_height + detail::heatmap_font_size / 2 + m);
    return g;
}

namespace detail {

inline void set_colour(cairo_t* cr, rgb c) {
    cairo_set_source_rgb(cr, c.red, c.green, c.blue);
}

inline void draw_heatmap(cairo_t* cr, const heatmap_geometry& g, std::size_t rows, std::size_t cols,
                         const std::vector<double>& values, const attention_plot_options& options) {
    set_font(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);  // cells meet without seams
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const double v = values[r * cols + c];
            set_colour(cr,
                       std::isnan(v) ? heatmap_missing : viridis((v - g.low) / (g.high - g.low)));
            cairo_rectangle(cr, g.grid_x + static_cast<int>(c) * g.cell,
                            g.grid_y + static_cast<int>(r) * g.cell, g.cell, g.cell);
            cairo_fill(cr);
        }
    const int grid_height = g.cell * static_cast<int>(rows);
    for (int y = 0; y < grid_height; ++y) {  // the colour bar: high at the top
        set_colour(cr, viridis(1.0 - (y + 0.5) / grid_height));
        cairo_rectangle(cr, g.bar_x, g.grid_y + y, g.bar_width, 1);
        cairo_fill(cr);
    }
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
    cairo_set_source_rgb(cr, 0, 0, 0);
    const double baseline = heatmap_font_size * 0.35;  // vertical centring of a line of text
    for (std::size_t r = 0; r < options.row_labels.size(); ++r) {
        const std::string& label = options.row_labels[r];
        cairo_move_to(cr, g.grid_x - heatmap_margin - text_width(cr, label),
                      g.grid_y + (static_cast<double>(r) + 0.5) * g.cell + baseline);
        cairo_show_text(cr, label.c_str());
    }
    const std::size_t step = column_label_step(g.cell);
    for (std::size_t c = 0; c < options.column_labels.size(); c += step) {
        cairo_save(cr);
        cairo_move_to(cr, g.grid_x + (static_cast<double>(c) + 0.5) * g.cell + baseline,
                      g.grid_y + grid_height + heatmap_margin / 2);
        cairo_rotate(cr, std::numbers::pi / 2);
        cairo_show_text(cr, options.column_labels[c].c_str());
        cairo_restore(cr);
    }
    for (double f : {0.0, 0.5, 1.0}) {
        const double y = g.grid_y + (1.0 - f) * grid_height;
        cairo_move_to(cr, g.bar_x + g.bar_width, y);
        cairo_line_to(cr, g.bar_x + g.bar_width + 3, y);
        cairo_stroke(cr);
        cairo_move_to(cr, g.bar_x + g.bar_width + 4, y + baseline);
        cairo_show_text(cr, tick_text(g.low + f * (g.high - g.low)).c_str());
    }
    if (!options.title.empty()) {
        cairo_move_to(cr, g.grid_x, heatmap_margin + heatmap_font_size);
        cairo_show_text(cr, options.title.c_str());
    }
}

inline cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

}  // namespace detail

// values: rows x cols, row-major. Writes `path` (.png or .svg) whole, or throws and leaves it as
// it was: std::invalid_argument for bad input or format, std::system_error for the file.
inline void write_heatmap(const std::vector<double>& values, std::size_t rows, std::size_t cols,
                          const std::filesystem::path& path,
                          const attention_plot_options& options) {
    if (values.size() != rows * cols)
        throw std::invalid_argument("xfuse::plot_attention: " + std::to_string(values.size()) +
                                    " values for " + std::to_string(rows) + " x " +
                                    std::to_string(cols));
    const std::string extension = path.extension().string();
    if (extension != ".png" && extension != ".svg")
        throw std::invalid_argument("xfuse::plot_attention: '" + path.string() +
                                    "': the file must end in .png or .svg");
    const heatmap_geometry g = heatmap_layout(rows, cols, values, options);
    std::string bytes;
    using surface_ptr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
    surface_ptr surface(
        extension == ".png"
            ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.width, g.height)
            : cairo_svg_surface_create_for_stream(&detail::append_bytes, &bytes, g.width, g.height),
        &cairo_surface_destroy);
    {
        const std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()),
                                                                    &cairo_destroy);
        detail::draw_heatmap(cr.get(), g, rows, cols, values, options);
        if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
            throw std::runtime_error(std::string("xfuse::plot_attention: cairo: ") +
                                     cairo_status_to_string(cairo_status(cr.get())));
    }
    if (extension == ".png")
        cairo_surface_write_to_png_stream(surface.get(), &detail::append_bytes, &bytes);
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
        throw std::runtime_error(std::string("xfuse::plot_attention: cairo: ") +
                                 cairo_status_to_string(cairo_surface_status(surface.get())));
    write_file_atomically(path, bytes);
}

}  // namespace io
}  // namespace xfuse
