// The text of model.summary(), as tf.keras 2.7-2.12 prints it (keras/utils/layer_utils.py,
// print_summary and print_row): fixed column stops, a cell cut at the column width and, for
// readability, right after the first "),", "},", "]," or "'," it contains; the rest continues
// on the next line. Every row line is padded with spaces to the full line length.
#pragma once

#include <array>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace xfuse {

struct summary_row {
    std::string layer;         // "dense (Dense)"
    std::string output_shape;  // "(None, 32)", "[(None, 10)]" for inputs, or "multiple"
    std::size_t parameters = 0;
    std::vector<std::string> connections;  // "input_1[0][0]"; unused when sequential-like
};

struct summary_table {
    std::string model_name;
    bool sequential_like = false;
    std::vector<summary_row> rows;
    std::size_t trainable = 0;
    std::size_t non_trainable = 0;
};

namespace detail {

// 11010 -> "11,010" (Python's "{:,}").
inline std::string with_thousands(std::size_t n) {
    const std::string digits = std::to_string(n);
    std::string text;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0)
            text += ',';
        text += digits[i];
    }
    return text;
}

// Python's str() of a list of strings: ['a[0][0]', 'b[0][0]'].
inline std::string python_list(const std::vector<std::string>& items) {
    std::string text = "[";
    for (std::size_t i = 0; i < items.size(); ++i)
        text += (i ? ", '" : "'") + items[i] + "'";
    return text + "]";
}

inline void print_row(std::ostream& os, std::vector<std::string> fields,
                      const std::vector<std::size_t>& positions) {
    constexpr std::array<std::string_view, 4> line_breaks{"),", "},", "],", "',"};
    auto pending = [&] {
        for (const std::string& f : fields)
            if (!f.empty())
                return true;
        return false;
    };
    do {
        std::string line;
        for (std::size_t col = 0; col < fields.size(); ++col) {
            const std::size_t start = col ? positions[col - 1] : 0;
            const std::size_t space = col + 1 == positions.size() ? 0 : 2;
            std::size_t cutoff = positions[col] - start - space;
            std::string_view fit = std::string_view(fields[col]).substr(0, cutoff);
            std::size_t earliest = std::string_view::npos;
            for (std::string_view token : line_breaks) {
                const std::size_t at = fit.find(token);
                if (at != std::string_view::npos)
                    earliest = std::min(earliest, at + token.size());
            }
            if (earliest != std::string_view::npos)
                cutoff = earliest;
            fit = fit.substr(0, cutoff);
            if (col == 0)
                line += ' ';
            line += fit;
            line.append(space, ' ');
            fields[col].erase(0, std::min(cutoff, fields[col].size()));
            if (line.size() < positions[col])
                line.append(positions[col] - line.size(), ' ');
        }
        os << line << '\n';
    } while (pending());
}

}  // namespace detail

inline void print_summary(std::ostream& os, const summary_table& table) {
    const std::size_t width = table.sequential_like ? 65 : 98;
    const std::vector<double> stops = table.sequential_like
                                          ? std::vector<double>{.45, .85, 1.}
                                          : std::vector<double>{.33, .55, .67, 1.};
    std::vector<std::size_t> positions;
    for (double p : stops)
        positions.push_back(static_cast<std::size_t>(width * p));

    std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
    if (!table.sequential_like)
        header.push_back("Connected to");

    os << "Model: \"" << table.model_name << "\"\n" << std::string(width, '_') << '\n';
    detail::print_row(os, header, positions);
    os << std::string(width, '=') << '\n';
    for (const summary_row& row : table.rows) {
        std::vector<std::string> fields{row.layer, row.output_shape,
                                        std::to_string(row.parameters)};
        if (!table.sequential_like)
            fields.push_back(detail::python_list(row.connections));
        detail::print_row(os, fields, positions);
        os << std::string(width, ' ') << '\n';
    }
    os << std::string(width, '=') << '\n'
       << "Total params: " << detail::with_thousands(table.trainable + table.non_trainable) << '\n'
       << "Trainable params: " << detail::with_thousands(table.trainable) << '\n'
       << "Non-trainable params: " << detail::with_thousands(table.non_trainable) << '\n'
       << std::string(width, '_') << '\n';
}

}  // namespace xfuse
