// xf::History: what fit() returns, as Keras' History callback (keras/callbacks.py, always added
// by fit): per-epoch values by name (`history.at("loss")`, `"val_loss"`, metric names), the
// epoch indices (0-based, as Keras' history.epoch) and fit's parameters.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "logs.hpp"

namespace xfuse {

struct History {
    struct parameters {
        int verbose = 1;
        int epochs = 1;
        std::size_t steps = 0;  // batches per epoch
    };

    std::map<std::string, std::vector<double>> history;
    std::vector<int> epoch;
    parameters params;

    // Keras' History.on_epoch_end: record the epoch and append every logged value.
    void on_epoch_end(int index, const logs& l) {
        epoch.push_back(index);
        for (const auto& [name, value] : l.values)
            history[name].push_back(value);
    }
};

}  // namespace xfuse
