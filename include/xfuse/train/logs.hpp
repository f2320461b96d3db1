// Training logs: what Keras passes to callbacks as `logs`, a dict of name -> value in insertion
// order ("loss", the metrics, then "val_loss", "val_<metric>"). Kept as an ordered list of pairs
// because the progress bar prints in that order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xfuse {

struct logs {
    std::vector<std::pair<std::string, double>> values;

    // Sets `name` (appending it the first time, as a Python dict does).
    void set(std::string_view name, double value) {
        for (auto& [key, v] : values)
            if (key == name) {
                v = value;
                return;
            }
        values.emplace_back(std::string(name), value);
    }
    std::optional<double> get(std::string_view name) const {
        for (const auto& [key, v] : values)
            if (key == name)
                return v;
        return std::nullopt;
    }
};

}  // namespace xfuse
